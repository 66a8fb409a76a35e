package dev.gearbx.reactive;

import dev.gearbx.engine.gguf.GgmlType;
import dev.gearbx.engine.model.ModelShape;
import dev.gearbx.engine.model.SyntheticModel;
import java.nio.file.Files;
import java.nio.file.Path;

/** Test models: stories260K from {@code -Dgearbx.models}, and synthetic ones. */
final class ReactiveModels {
    static final String REFERENCE = ", there was a little girl named Lily. She loved to play outside in the park. One day, she saw";

    private ReactiveModels() {}

    static Path stories260K() {
        Path p = Path.of(System.getProperty("gearbx.models", "../shared/models")).resolve("stories260K.gguf");
        if (!Files.isRegularFile(p)) {
            throw new IllegalStateException("test model " + p.toAbsolutePath() + " is missing; set -Dgearbx.models");
        }
        return p;
    }

    /** A near-uniform model: entropy near log2 V at every step. */
    static Path noise(Path dir) {
        Path p = dir.resolve("noise.gguf");
        SyntheticModel.write(p, new ModelShape("noise", 64, 2, 4, 2, 128, 2000, 256), GgmlType.F32, 3, 0.001f);
        return p;
    }
}
