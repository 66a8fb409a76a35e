package dev.gearbx.engine.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gearbx.engine.generate.GenerationRequest;
import dev.gearbx.engine.generate.Generator;
import dev.gearbx.engine.gguf.GgmlType;
import dev.gearbx.engine.gguf.GgufFile;
import dev.gearbx.engine.gguf.GgufMetadataException;
import dev.gearbx.engine.gguf.GgufTensorInfo;
import dev.gearbx.engine.gguf.GgufValue;
import dev.gearbx.engine.gguf.GgufWriter;
import dev.gearbx.engine.testing.TestModels;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Readable GGUF files that do not describe a runnable model fail with errors naming what is wrong. */
class ModelLoadingErrorsTest {
    @TempDir
    Path dir;

    /** stories260K rewritten with one change made by {@code edit} on the writer after copying. */
    private Path variant(String name, String skipTensor, Consumer<GgufWriter> edit) {
        Path out = dir.resolve(name + ".gguf");
        try (GgufFile src = GgufFile.open(TestModels.stories260K())) {
            GgufWriter w = new GgufWriter().putAll(src.metadata());
            for (GgufTensorInfo t : src.tensors()) {
                if (!t.name().equals(skipTensor)) {
                    w.tensor(t.name(), t.type(), t.shape(), src.tensorData(t));
                }
            }
            edit.accept(w);
            w.write(out);
        }
        return out;
    }

    @Test
    void quantizedTensorTypeNamesTensorAndType() {
        Path p = variant("q51", "blk.0.attn_q.weight", w -> w.tensor("blk.0.attn_q.weight", GgmlType.Q5_1,
                new long[] {64, 64}, Arena.ofAuto().allocate(GgmlType.Q5_1.byteSize(64 * 64))));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> LlamaModel.load(p));
        assertTrue(e.getMessage().contains("blk.0.attn_q.weight") && e.getMessage().contains("Q5_1"), e.getMessage());
    }

    @Test
    void missingTensorIsNamed() {
        Path p = variant("missing", "blk.3.ffn_down.weight", w -> {});
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> LlamaModel.load(p));
        assertTrue(e.getMessage().contains("blk.3.ffn_down.weight"), e.getMessage());
    }

    @Test
    void wrongShapeNamesBothShapes() {
        Path p = variant("shape", "blk.1.attn_k.weight",
                w -> w.tensor("blk.1.attn_k.weight", GgmlType.F32, new long[] {64, 64}, new float[64 * 64]));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> LlamaModel.load(p));
        assertTrue(e.getMessage().contains("[64, 64]") && e.getMessage().contains("[64, 32]"), e.getMessage());
    }

    @Test
    void inconsistentHeadCountsAreRejected() {
        Path p = variant("heads", "", w -> w.put("llama.attention.head_count_kv", GgufValue.ofUint32(3)));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> LlamaModel.load(p));
        assertTrue(e.getMessage().contains("8") && e.getMessage().contains("3"), e.getMessage());
    }

    @Test
    void missingMetadataKeyIsNamed() {
        Path out = dir.resolve("nokey.gguf");
        try (GgufFile src = GgufFile.open(TestModels.stories260K())) {
            GgufWriter w = new GgufWriter();
            src.metadata().asMap().forEach((k, v) -> {
                if (!k.equals("llama.block_count")) {
                    w.put(k, v);
                }
            });
            for (GgufTensorInfo t : src.tensors()) {
                w.tensor(t.name(), t.type(), t.shape(), src.tensorData(t));
            }
            w.write(out);
        }
        GgufMetadataException e = assertThrows(GgufMetadataException.class, () -> LlamaModel.load(out));
        assertEquals("llama.block_count", e.key());
    }

    @Test
    void promptLongerThanTheContextIsAClearError() {
        Path p = variant("shortctx", "", w -> w.put("llama.context_length", GgufValue.ofUint32(8)));
        try (LlamaModel m = LlamaModel.load(p)) {
            ContextOverflowException e = assertThrows(ContextOverflowException.class,
                    () -> new Generator(m).start(GenerationRequest.builder("Once upon a time there was a dog and a cat").build()));
            assertEquals(8, e.capacity());
            // a prompt that fits stops with CONTEXT_FULL instead of failing
            var r = new Generator(m).generate(GenerationRequest.builder("Once").maxTokens(100).stopAtEndOfGeneration(false).build());
            assertEquals(dev.gearbx.engine.generate.StopReason.CONTEXT_FULL, r.stopReason());
        }
    }
}
