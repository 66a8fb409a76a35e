package dev.gearbx.reactive.models;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gearbx.engine.GearbxException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Ollama's local model store: {@code manifests/<registry>/<namespace>/<name>/<tag>} JSON files
 * whose layer of media type {@code application/vnd.ollama.image.model} names a GGUF blob in
 * {@code blobs/sha256-<hex>}. The store folder is {@code $OLLAMA_MODELS}, else {@code
 * ~/.ollama/models}.
 *
 * <pre>{@code
 * Path gguf = OllamaStore.fromEnvironment().resolve("llama3.2:1b");
 * }</pre>
 */
public final class OllamaStore {
    /** Media type of the layer holding the GGUF weights. */
    public static final String MODEL_MEDIA_TYPE = "application/vnd.ollama.image.model";
    public static final String DEFAULT_REGISTRY = "registry.ollama.ai";
    public static final String DEFAULT_NAMESPACE = "library";
    public static final String DEFAULT_TAG = "latest";

    private static final Pattern DIGEST = Pattern.compile("sha256[:-][0-9a-f]{64}");
    private static final Pattern PART = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path root;

    public OllamaStore(Path root) {
        this.root = root;
    }

    /** The store named by {@code OLLAMA_MODELS}, or {@code ~/.ollama/models}. */
    public static OllamaStore fromEnvironment() {
        return fromEnvironment(System.getenv(), System.getProperty("user.home"));
    }

    static OllamaStore fromEnvironment(Map<String, String> env, String userHome) {
        String dir = env.get("OLLAMA_MODELS");
        return new OllamaStore(dir != null && !dir.isBlank() ? Path.of(dir) : Path.of(userHome, ".ollama", "models"));
    }

    public Path root() {
        return root;
    }

    /** A parsed {@code [registry/][namespace/]name[:tag]}. */
    public record Name(String registry, String namespace, String model, String tag) {
        /** Parses a name as Ollama does: {@code llama3}, {@code llama3:8b}, {@code user/model}, {@code host/ns/model:tag}. */
        public static Name parse(String reference) {
            String ref = reference.strip();
            String tag = DEFAULT_TAG;
            int colon = ref.lastIndexOf(':');
            if (colon > ref.lastIndexOf('/')) {
                tag = ref.substring(colon + 1);
                ref = ref.substring(0, colon);
            }
            String[] parts = ref.split("/", -1);
            if (parts.length > 3) {
                throw new IllegalArgumentException("Ollama model name '" + reference
                        + "' has too many parts; expected [registry/][namespace/]name[:tag]");
            }
            String model = parts[parts.length - 1];
            String namespace = parts.length >= 2 ? parts[parts.length - 2] : DEFAULT_NAMESPACE;
            String registry = parts.length == 3 ? parts[0] : DEFAULT_REGISTRY;
            for (String p : new String[] {registry, namespace, model, tag}) {
                // each part becomes a path segment: no separators, no "..", nothing hidden
                if (!PART.matcher(p).matches() || p.contains("..")) {
                    throw new IllegalArgumentException("Ollama model name '" + reference + "' has an invalid part '" + p + "'");
                }
            }
            return new Name(registry, namespace, model, tag);
        }

        @Override
        public String toString() {
            return registry + "/" + namespace + "/" + model + ":" + tag;
        }
    }

    /** Path of the manifest for {@code name}. */
    public Path manifest(Name name) {
        return root.resolve("manifests").resolve(name.registry()).resolve(name.namespace()).resolve(name.model()).resolve(name.tag());
    }

    /**
     * The GGUF blob of a model.
     *
     * @throws ModelNotFoundException naming the manifest or blob path that is missing
     * @throws IllegalArgumentException if the name is malformed
     * @throws GearbxException if the manifest is unreadable or has no model layer
     */
    public Path resolve(String reference) {
        Name name = Name.parse(reference);
        Path manifest = manifest(name);
        if (!Files.isRegularFile(manifest)) {
            throw new ModelNotFoundException("ollama:" + reference, List.of(manifest),
                    "is not in Ollama's store " + root + " (pull it with `ollama pull " + reference
                            + "`, or set OLLAMA_MODELS to the store folder)" + available());
        }
        JsonNode json;
        try {
            json = JSON.readTree(manifest.toFile());
        } catch (IOException e) {
            throw new GearbxException("cannot read Ollama manifest " + manifest + ": " + e.getMessage(), e);
        }
        String digest = modelDigest(json);
        if (digest == null) {
            throw new GearbxException("Ollama manifest " + manifest + " has no layer of media type " + MODEL_MEDIA_TYPE);
        }
        if (!DIGEST.matcher(digest).matches()) {
            throw new GearbxException("Ollama manifest " + manifest + " has a malformed model digest '" + digest + "'");
        }
        Path blob = root.resolve("blobs").resolve(digest.replace(':', '-'));
        if (!Files.isRegularFile(blob)) {
            throw new ModelNotFoundException("ollama:" + reference, List.of(manifest, blob),
                    "has a manifest but its model blob is missing");
        }
        return blob;
    }

    private static @Nullable String modelDigest(JsonNode manifest) {
        JsonNode layers = manifest.path("layers");
        for (JsonNode layer : layers) {
            if (MODEL_MEDIA_TYPE.equals(layer.path("mediaType").asText())) {
                JsonNode d = layer.get("digest");
                return d != null && d.isTextual() ? d.asText() : null;
            }
        }
        return null;
    }

    /** Models present in the store, as {@code namespace/name:tag} (registry omitted when default). */
    public List<String> list() {
        List<String> out = new ArrayList<>();
        Path manifests = root.resolve("manifests");
        if (!Files.isDirectory(manifests)) {
            return out;
        }
        try (var files = Files.walk(manifests, 4)) {
            files.filter(Files::isRegularFile).forEach(p -> {
                Path rel = manifests.relativize(p);
                if (rel.getNameCount() == 4) {
                    String registry = rel.getName(0).toString();
                    String ns = rel.getName(1).toString();
                    String prefix = (registry.equals(DEFAULT_REGISTRY) ? "" : registry + "/")
                            + (ns.equals(DEFAULT_NAMESPACE) && registry.equals(DEFAULT_REGISTRY) ? "" : ns + "/");
                    out.add(prefix + rel.getName(2) + ":" + rel.getName(3));
                }
            });
        } catch (IOException e) {
            return out;
        }
        out.sort(null);
        return out;
    }

    private String available() {
        List<String> models = list();
        return models.isEmpty() ? "; the store holds no models" : "; the store holds: " + String.join(", ", models);
    }
}
