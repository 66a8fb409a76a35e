package dev.gearbx.examples;

import java.nio.file.Path;

/** Default locations the command line uses. */
public final class ModelPaths {
    private ModelPaths() {}

    /**
     * The model used when {@code --model} is not given: the TinyStories model in the shared models
     * folder next to the project ({@code gearbx.home} is set by the {@code ./gearbx} script).
     */
    public static Path defaultModel() {
        String home = System.getProperty("gearbx.home", ".");
        String models = System.getProperty("gearbx.models", Path.of(home).resolve("../shared/models").toString());
        return Path.of(models).resolve("stories260K.gguf").normalize();
    }
}
