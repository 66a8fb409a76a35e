package dev.gearbx.reactive.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gearbx.engine.GearbxException;
import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.generate.GenerationRequest;
import dev.gearbx.engine.routing.RoutingOptions;
import dev.gearbx.engine.generate.Generator;
import dev.gearbx.engine.model.LlamaModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A store laid out the way Ollama lays it out, holding the real stories260K model as a blob. */
class OllamaStoreTest {
    static final Path MODEL = Path.of(System.getProperty("gearbx.models", "../shared/models")).resolve("stories260K.gguf");

    @TempDir
    Path root;

    String digest;

    @BeforeEach
    void layOutStore() throws Exception {
        byte[] gguf = Files.readAllBytes(MODEL);
        digest = "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(gguf));
        Files.createDirectories(root.resolve("blobs"));
        Files.write(root.resolve("blobs").resolve(digest.replace(':', '-')), gguf);
        writeManifest("registry.ollama.ai/library/stories/260k", digest);
        writeManifest("registry.ollama.ai/library/stories/latest", digest);
        writeManifest("registry.ollama.ai/alice/tiny/q8", digest);
    }

    private void writeManifest(String path, String modelDigest) throws IOException {
        Path m = root.resolve("manifests").resolve(path);
        Files.createDirectories(m.getParent());
        Files.writeString(m, """
                {"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
                 "config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"sha256:%s","size":10},
                 "layers":[
                  {"mediaType":"application/vnd.ollama.image.template","digest":"sha256:%s","size":5},
                  {"mediaType":"application/vnd.ollama.image.model","digest":"%s","size":1185376}]}
                """.formatted("0".repeat(64), "1".repeat(64), modelDigest));
    }

    @Test
    void resolvesNameAndTagToTheModelBlobAndRunsIt() {
        OllamaStore store = new OllamaStore(root);
        Path blob = store.resolve("stories:260k");
        assertEquals(root.resolve("blobs").resolve(digest.replace(':', '-')), blob);
        assertEquals(blob, store.resolve("stories"), "no tag means latest");
        assertEquals(blob, store.resolve("alice/tiny:q8"), "a namespace");
        assertEquals(blob, ModelReference.resolve("ollama:stories:260k", store));
        try (LlamaModel m = LlamaModel.load(blob)) {
            String text = new Generator(m).generate(GenerationRequest.builder("Once upon a time").maxTokens(32)
                    .routing(RoutingOptions.pinned(Gear.HIGH)).build()).text();
            assertEquals(", there was a little girl named Lily. She loved to play outside in the park. One day, she saw", text);
        }
    }

    @Test
    void honoursOllamaModelsVariable() {
        assertEquals(root, OllamaStore.fromEnvironment(Map.of("OLLAMA_MODELS", root.toString()), "/home/x").root());
        assertEquals(Path.of("/home/x/.ollama/models"), OllamaStore.fromEnvironment(Map.of(), "/home/x").root());
    }

    @Test
    void missingModelSaysWhereItLookedAndWhatIsThere() {
        ModelNotFoundException e = assertThrows(ModelNotFoundException.class, () -> new OllamaStore(root).resolve("llama3:8b"));
        String expected = root.resolve("manifests/registry.ollama.ai/library/llama3/8b").toString();
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertTrue(e.getMessage().contains("stories:260k"), "lists the models present: " + e.getMessage());
        assertEquals(1, e.lookedAt().size());
    }

    @Test
    void missingBlobIsNamed() throws Exception {
        writeManifest("registry.ollama.ai/library/gone/latest", "sha256:" + "a".repeat(64));
        ModelNotFoundException e = assertThrows(ModelNotFoundException.class, () -> new OllamaStore(root).resolve("gone"));
        assertTrue(e.getMessage().contains("sha256-" + "a".repeat(64)), e.getMessage());
    }

    @Test
    void manifestWithoutModelLayerOrBadDigestIsAnError() throws Exception {
        Path m = root.resolve("manifests/registry.ollama.ai/library/empty/latest");
        Files.createDirectories(m.getParent());
        Files.writeString(m, "{\"layers\":[]}");
        GearbxException e = assertThrows(GearbxException.class, () -> new OllamaStore(root).resolve("empty"));
        assertTrue(e.getMessage().contains("application/vnd.ollama.image.model"), e.getMessage());
        writeManifest("registry.ollama.ai/library/evil/latest", "sha256:../../etc/passwd");
        e = assertThrows(GearbxException.class, () -> new OllamaStore(root).resolve("evil"));
        assertTrue(e.getMessage().contains("malformed"), e.getMessage());
    }

    @Test
    void pathTraversalInNamesIsRejected() {
        OllamaStore store = new OllamaStore(root);
        assertThrows(IllegalArgumentException.class, () -> store.resolve("../../etc/passwd"));
        assertThrows(IllegalArgumentException.class, () -> store.resolve("a/b/c/d"));
        assertThrows(IllegalArgumentException.class, () -> store.resolve("model:.."));
    }

    @Test
    void plainPathsResolveAndMissingFilesAreNamed() {
        assertEquals(MODEL, ModelReference.resolve(MODEL.toString(), new OllamaStore(root)));
        ModelNotFoundException e = assertThrows(ModelNotFoundException.class,
                () -> ModelReference.resolve("/nope/x.gguf", new OllamaStore(root)));
        assertTrue(e.getMessage().contains("/nope/x.gguf"), e.getMessage());
    }
}
