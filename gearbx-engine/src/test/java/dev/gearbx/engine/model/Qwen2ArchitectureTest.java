package dev.gearbx.engine.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gearbx.engine.gguf.GgmlType;
import dev.gearbx.engine.gguf.GgufFile;
import dev.gearbx.engine.gguf.GgufMetadataException;
import dev.gearbx.engine.gguf.GgufTensorInfo;
import dev.gearbx.engine.gguf.GgufValue;
import dev.gearbx.engine.gguf.GgufWriter;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * qwen2 differs from llama by NEOX RoPE pairing and QKV biases. A llama model whose query/key rows
 * are permuted within each head, from interleaved pairs (2i, 2i+1) to halves (i, i + d/2), computes
 * exactly the same attention scores under NEOX RoPE; so the qwen2 copy must give the same logits.
 */
class Qwen2ArchitectureTest {
    static final ModelShape TINY = new ModelShape("tiny", 64, 2, 4, 2, 96, 300, 64);
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @TempDir
    Path dir;

    @Test
    void neoxWithPermutedWeightsEqualsInterleaved() {
        Path llama = dir.resolve("llama.gguf");
        SyntheticModel.write(llama, TINY, GgmlType.F32, 7, 0.3f);
        Path qwen = dir.resolve("qwen2.gguf");
        writeQwen2Copy(llama, qwen, Map.of());
        try (LlamaModel a = LlamaModel.load(llama); LlamaModel b = LlamaModel.load(qwen)) {
            assertEquals(RopeType.NEOX, b.config().ropeType());
            assertTrue(b.config().attentionBias());
            LlamaState sa = a.newState(16);
            LlamaState sb = b.newState(16);
            int[] tokens = {1, 300 - 1, 17, 260, 42, 5, 99, 280};
            for (int t : tokens) {
                float[] la = a.forward(sa, t);
                float[] lb = b.forward(sb, t);
                for (int i = 0; i < la.length; i++) {
                    assertEquals(la[i], lb[i], 1e-4f * (1 + Math.abs(la[i])), "logit " + i + " after token " + t);
                }
            }
        }
    }

    @Test
    void valueBiasIsAdded() {
        // a bias on v adds the same vector to every head output before Wo: compare two copies
        Path llama = dir.resolve("llama.gguf");
        SyntheticModel.write(llama, TINY, GgmlType.F32, 7, 0.3f);
        Path zero = dir.resolve("zero.gguf");
        Path biased = dir.resolve("biased.gguf");
        writeQwen2Copy(llama, zero, Map.of());
        writeQwen2Copy(llama, biased, Map.of("blk.0.attn_v.bias", 0.5f));
        try (LlamaModel a = LlamaModel.load(zero); LlamaModel b = LlamaModel.load(biased)) {
            float[] la = a.forward(a.newState(4), 1).clone();
            float[] lb = b.forward(b.newState(4), 1);
            double diff = 0;
            for (int i = 0; i < la.length; i++) {
                diff += Math.abs(la[i] - lb[i]);
            }
            assertTrue(diff > 1e-2, "a non-zero value bias changes the logits (diff " + diff + ")");
        }
    }

    @Test
    void unsupportedArchitectureIsNamed() {
        Path llama = dir.resolve("llama.gguf");
        SyntheticModel.write(llama, TINY, GgmlType.F32, 7, 0.3f);
        Path other = dir.resolve("other.gguf");
        try (GgufFile src = GgufFile.open(llama)) {
            GgufWriter w = new GgufWriter().putAll(src.metadata()).put("general.architecture", GgufValue.ofString("mamba"));
            for (GgufTensorInfo t : src.tensors()) {
                w.tensor(t.name(), t.type(), t.shape(), src.tensorData(t));
            }
            w.write(other);
        }
        GgufMetadataException e = assertThrows(GgufMetadataException.class, () -> LlamaModel.load(other));
        assertTrue(e.getMessage().contains("mamba"), e.getMessage());
    }

    /** Copies a llama file as qwen2: renamed keys, permuted q/k rows, bias vectors (zero unless given). */
    private static void writeQwen2Copy(Path llama, Path qwen, Map<String, Float> biasValues) {
        try (GgufFile src = GgufFile.open(llama)) {
            GgufWriter w = new GgufWriter();
            src.metadata().asMap().forEach((k, v) -> w.put(k.startsWith("llama.") ? "qwen2." + k.substring(6) : k, v));
            w.put("general.architecture", GgufValue.ofString("qwen2"));
            int headDim = TINY.dim() / TINY.heads();
            for (GgufTensorInfo t : src.tensors()) {
                MemorySegment data = src.tensorData(t);
                if (t.name().endsWith("attn_q.weight") || t.name().endsWith("attn_k.weight")) {
                    int rows = (int) t.dim(1);
                    int cols = (int) t.dim(0);
                    float[] permuted = new float[rows * cols];
                    for (int r = 0; r < rows; r++) {
                        int head = r / headDim;
                        int j = r % headDim;
                        // NEOX row j holds interleaved row 2j (first half) or 2(j - d/2) + 1 (second half)
                        int from = head * headDim + (j < headDim / 2 ? 2 * j : 2 * (j - headDim / 2) + 1);
                        MemorySegment.copy(data, F32, (long) from * cols * 4, permuted, r * cols, cols);
                    }
                    w.tensor(t.name(), GgmlType.F32, t.shape(), permuted);
                } else {
                    w.tensor(t.name(), t.type(), t.shape(), data);
                }
            }
            for (int l = 0; l < TINY.layers(); l++) {
                int q = TINY.dim();
                int kv = TINY.kvHeads() * headDim;
                for (String n : new String[] {"q", "k", "v"}) {
                    String name = "blk." + l + ".attn_" + n + ".bias";
                    float[] b = new float[n.equals("q") ? q : kv];
                    java.util.Arrays.fill(b, biasValues.getOrDefault(name, 0f));
                    w.tensor(name, GgmlType.F32, new long[] {b.length}, b);
                }
            }
            w.write(qwen);
        }
    }
}
