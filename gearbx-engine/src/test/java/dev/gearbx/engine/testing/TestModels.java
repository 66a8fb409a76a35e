package dev.gearbx.engine.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the real test models are: system property {@code gearbx.models}, default {@code ../shared/models}. */
public final class TestModels {
    private TestModels() {}

    public static Path dir() {
        return Path.of(System.getProperty("gearbx.models", "../shared/models"));
    }

    /** A model file that must exist; fails (not skips) when it is missing, naming where it looked. */
    public static Path require(String name) {
        Path p = dir().resolve(name);
        if (!Files.isRegularFile(p)) {
            throw new IllegalStateException("test model " + p.toAbsolutePath()
                    + " is missing; set -Dgearbx.models to the folder holding it");
        }
        return p;
    }

    public static Path stories260K() {
        return require("stories260K.gguf");
    }
}
