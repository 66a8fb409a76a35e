package dev.gearbx.reactive.models;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Turns what a user writes as a model into a GGUF file or a Hugging Face model folder: a path, or
 * {@code ollama:NAME[:TAG]} for a model in Ollama's local store ({@link OllamaStore}).
 */
public final class ModelReference {
    public static final String OLLAMA_PREFIX = "ollama:";

    private ModelReference() {}

    /** Resolves with the Ollama store of the environment. */
    public static Path resolve(String reference) {
        return resolve(reference, OllamaStore.fromEnvironment());
    }

    /**
     * @throws ModelNotFoundException when the file or the Ollama model does not exist, naming
     *     where it looked
     */
    public static Path resolve(String reference, OllamaStore ollama) {
        if (reference.startsWith(OLLAMA_PREFIX)) {
            return ollama.resolve(reference.substring(OLLAMA_PREFIX.length()));
        }
        Path p = Path.of(reference);
        if (Files.isDirectory(p) && Files.isRegularFile(p.resolve("config.json"))) {
            return p; // a Hugging Face model folder
        }
        if (!Files.isRegularFile(p)) {
            throw new ModelNotFoundException(reference, List.of(p.toAbsolutePath()),
                    "is not a file (nor a Hugging Face folder with config.json)");
        }
        return p;
    }
}
