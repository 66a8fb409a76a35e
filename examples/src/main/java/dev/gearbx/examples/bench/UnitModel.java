package dev.gearbx.examples.bench;

import dev.gearbx.engine.gguf.GgmlType;
import dev.gearbx.engine.model.ModelShape;
import dev.gearbx.engine.model.SyntheticModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The tiny synthetic model of the {@code --unit} modes: seeded random F32 weights, written once per folder. */
final class UnitModel {
    /** dim 64, 2 blocks, 4 heads (2 KV), ffn 128, vocabulary 512, context 256: whole groups of 32 everywhere. */
    static final ModelShape SHAPE = new ModelShape("unit", 64, 2, 4, 2, 128, 512, 256);

    private UnitModel() {}

    /** The unit model's file in {@code dir}, written first if missing. */
    static synchronized Path file(Path dir) {
        Path p = dir.resolve("synthetic-unit-f32.gguf");
        try {
            if (!Files.exists(p)) {
                Files.createDirectories(dir);
                Path tmp = Files.createTempFile(dir, "synthetic-unit", ".tmp");
                SyntheticModel.write(tmp, SHAPE, GgmlType.F32, 7, 0.5f);
                Files.move(tmp, p, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the unit model to " + p, e);
        }
        return p;
    }
}
