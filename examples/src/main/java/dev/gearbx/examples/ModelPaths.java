package dev.gearbx.examples;

import dev.gearbx.demo.DemoModel;
import java.nio.file.Path;

/** Default locations the command line uses. */
public final class ModelPaths {
    private ModelPaths() {}

    /**
     * The model used when {@code --model} is not given: the embedded demo model (module {@code gearbx-demo}), copied
     * once into the temporary folder. Needs no other file and no download.
     */
    public static Path defaultModel() {
        return DemoModel.path();
    }

    /** The TinyStories model in the shared models folder next to the project ({@code gearbx.home} is set by {@code ./gearbx}). */
    public static Path stories() {
        String home = System.getProperty("gearbx.home", ".");
        String models = System.getProperty("gearbx.models", Path.of(home).resolve("../shared/models").toString());
        return Path.of(models).resolve("stories260K.gguf").normalize();
    }
}
