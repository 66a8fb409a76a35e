package dev.gearbx.engine.model;

import dev.gearbx.engine.gguf.GgmlType;
import dev.gearbx.engine.gguf.GgufValue;
import dev.gearbx.engine.gguf.GgufWriter;
import dev.gearbx.engine.tensor.Quantization;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Writes a GGUF Llama model of a given shape with seeded random weights and a synthetic
 * SentencePiece vocabulary (control tokens, 256 byte tokens, then made-up pieces). For tests and
 * benchmarks: the model is well-formed and runs, its output is meaningless.
 */
public final class SyntheticModel {
    private SyntheticModel() {}

    /**
     * Writes the model.
     *
     * @param type type of the matrices (F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K or Q6_K; quantized types are made from random floats by
     *     {@link Quantization#quantize}); norms are F32
     * @throws IllegalArgumentException if {@code type} cannot be written or the model's row lengths (dim, ffnDim,
     *     heads * headDim) are not a multiple of its block size
     * @param scale weights are uniform in [-scale, scale]
     */
    public static void write(Path path, ModelShape shape, GgmlType type, long seed, float scale) {
        write(path, shape, type, seed, scale, false);
    }

    /**
     * Writes the model, with F32 attention biases ({@code attn_q/k/v.bias}, uniform in [-scale, scale], as Qwen2
     * models have) when {@code attentionBiases}.
     *
     * @see #write(Path, ModelShape, GgmlType, long, float)
     */
    public static void write(Path path, ModelShape shape, GgmlType type, long seed, float scale,
            boolean attentionBiases) {
        int headDim = shape.dim() / shape.heads();
        if (!Quantization.canQuantize(type)) {
            throw new IllegalArgumentException("cannot write synthetic matrices of type " + type);
        }
        for (int rowLength : new int[] {shape.dim(), shape.ffnDim(), shape.heads() * headDim}) {
            if (rowLength % type.blockSize() != 0) {
                throw new IllegalArgumentException("row length " + rowLength + " of " + shape.name()
                        + " is not a multiple of the " + type + " block size " + type.blockSize());
            }
        }
        GgufWriter w = new GgufWriter();
        w.put("general.architecture", GgufValue.ofString("llama"));
        w.put("general.name", GgufValue.ofString("gearbx synthetic " + shape.name()));
        w.put("llama.context_length", GgufValue.ofUint32(shape.contextLength()));
        w.put("llama.embedding_length", GgufValue.ofUint32(shape.dim()));
        w.put("llama.block_count", GgufValue.ofUint32(shape.layers()));
        w.put("llama.feed_forward_length", GgufValue.ofUint32(shape.ffnDim()));
        w.put("llama.attention.head_count", GgufValue.ofUint32(shape.heads()));
        w.put("llama.attention.head_count_kv", GgufValue.ofUint32(shape.kvHeads()));
        w.put("llama.rope.dimension_count", GgufValue.ofUint32(headDim));
        w.put("llama.attention.layer_norm_rms_epsilon", GgufValue.ofFloat32(1e-5f));
        putVocabulary(w, shape.vocabularySize());
        long[] counter = {seed};
        w.tensor("token_embd.weight", type, new long[] {shape.dim(), shape.vocabularySize()}, random(type, ++counter[0], scale));
        w.tensor("output_norm.weight", GgmlType.F32, new long[] {shape.dim()}, ones(shape.dim()));
        w.tensor("output.weight", type, new long[] {shape.dim(), shape.vocabularySize()}, random(type, ++counter[0], scale));
        int q = shape.heads() * headDim;
        int kv = shape.kvHeads() * headDim;
        for (int l = 0; l < shape.layers(); l++) {
            String p = "blk." + l + ".";
            w.tensor(p + "attn_norm.weight", GgmlType.F32, new long[] {shape.dim()}, ones(shape.dim()));
            w.tensor(p + "attn_q.weight", type, new long[] {shape.dim(), q}, random(type, ++counter[0], scale));
            w.tensor(p + "attn_k.weight", type, new long[] {shape.dim(), kv}, random(type, ++counter[0], scale));
            w.tensor(p + "attn_v.weight", type, new long[] {shape.dim(), kv}, random(type, ++counter[0], scale));
            if (attentionBiases) {
                w.tensor(p + "attn_q.bias", GgmlType.F32, new long[] {q}, random(GgmlType.F32, ++counter[0], scale));
                w.tensor(p + "attn_k.bias", GgmlType.F32, new long[] {kv}, random(GgmlType.F32, ++counter[0], scale));
                w.tensor(p + "attn_v.bias", GgmlType.F32, new long[] {kv}, random(GgmlType.F32, ++counter[0], scale));
            }
            w.tensor(p + "attn_output.weight", type, new long[] {q, shape.dim()}, random(type, ++counter[0], scale));
            w.tensor(p + "ffn_norm.weight", GgmlType.F32, new long[] {shape.dim()}, ones(shape.dim()));
            w.tensor(p + "ffn_gate.weight", type, new long[] {shape.dim(), shape.ffnDim()}, random(type, ++counter[0], scale));
            w.tensor(p + "ffn_up.weight", type, new long[] {shape.dim(), shape.ffnDim()}, random(type, ++counter[0], scale));
            w.tensor(p + "ffn_down.weight", type, new long[] {shape.ffnDim(), shape.dim()}, random(type, ++counter[0], scale));
        }
        w.write(path);
    }

    private static float[] ones(int n) {
        float[] v = new float[n];
        java.util.Arrays.fill(v, 1f);
        return v;
    }

    private static void putVocabulary(GgufWriter w, int size) {
        List<String> tokens = new ArrayList<>(size);
        tokens.add("<unk>");
        tokens.add("<s>");
        tokens.add("</s>");
        for (int b = 0; b < 256; b++) {
            tokens.add(String.format("<0x%02X>", b));
        }
        // made-up pieces: "▁a", "▁b", ..., "▁aa", ... (unique by construction)
        for (int i = 0; tokens.size() < size; i++) {
            StringBuilder sb = new StringBuilder("\u2581");
            int v = i;
            do {
                sb.append((char) ('a' + v % 26));
                v = v / 26 - 1;
            } while (v >= 0);
            tokens.add(sb.toString());
        }
        float[] scores = new float[size];
        int[] types = new int[size];
        for (int i = 0; i < size; i++) {
            scores[i] = -i;
            types[i] = i == 0 ? 2 : i < 3 ? 3 : i < 259 ? 6 : 1;
        }
        w.put("tokenizer.ggml.model", GgufValue.ofString("llama"));
        w.put("tokenizer.ggml.tokens", GgufValue.ofStrings(tokens.toArray(new String[0])));
        w.put("tokenizer.ggml.scores", GgufValue.ofFloats(scores));
        w.put("tokenizer.ggml.token_type", GgufValue.ofInt32s(types));
        w.put("tokenizer.ggml.bos_token_id", GgufValue.ofUint32(1));
        w.put("tokenizer.ggml.eos_token_id", GgufValue.ofUint32(2));
        w.put("tokenizer.ggml.unknown_token_id", GgufValue.ofUint32(0));
    }

    /**
     * Uniform random values in [-scale, scale], generated and encoded in parallel chunks of whole blocks, each chunk
     * seeded from its index.
     */
    private static GgufWriter.TensorData random(GgmlType type, long seed, float scale) {
        return target -> {
            long elements = target.byteSize() / type.typeSize() * type.blockSize();
            int chunk = 1 << 16; // a multiple of every block size (32, 256)
            int chunks = (int) ((elements + chunk - 1) / chunk);
            IntStream.range(0, chunks).parallel().forEach(c -> {
                long start = (long) c * chunk;
                int n = (int) Math.min(chunk, elements - start);
                float[] values = new float[n];
                // xorshift64*: fast and good enough for weights nobody reads for meaning
                long x = (seed * 0x9E3779B97F4A7C15L) ^ (c * 0xD1B54A32D192ED03L) | 1;
                for (int i = 0; i < n; i++) {
                    x ^= x >>> 12;
                    x ^= x << 25;
                    x ^= x >>> 27;
                    long r = x * 0x2545F4914F6CDD1DL;
                    values[i] = ((r >>> 40) / (float) (1 << 24) * 2 - 1) * scale;
                }
                MemorySegment slice = target.asSlice(type.byteSize(start), type.byteSize(n));
                Quantization.quantize(type, values, 0, n, slice);
            });
        };
    }
}
