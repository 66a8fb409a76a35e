package dev.gearbx.engine.model;

import dev.gearbx.engine.gguf.GgufMetadata;
import dev.gearbx.engine.gguf.GgufMetadataException;

/**
 * Hyperparameters of a Llama-family model, read from GGUF metadata.
 *
 * @param architecture GGUF {@code general.architecture}: {@code llama} or {@code qwen2}
 * @param dim embedding width
 * @param layers number of transformer blocks
 * @param heads query heads
 * @param kvHeads key/value heads (grouped-query attention when fewer than heads)
 * @param headDim width of one head
 * @param ffnDim SwiGLU hidden width
 * @param vocabularySize number of tokens
 * @param contextLength trained context length
 * @param rmsEps RMSNorm epsilon
 * @param ropeTheta RoPE base frequency
 * @param rotaryDim dimensions of each head that RoPE rotates
 * @param ropeType pairing of rotated dimensions
 * @param ropeScaling frequency scaling (none, linear or llama-3)
 * @param attentionBias whether q/k/v have biases (qwen2)
 */
public record LlamaConfig(
        String architecture,
        int dim,
        int layers,
        int heads,
        int kvHeads,
        int headDim,
        int ffnDim,
        int vocabularySize,
        int contextLength,
        float rmsEps,
        float ropeTheta,
        int rotaryDim,
        RopeType ropeType,
        RopeScaling ropeScaling,
        boolean attentionBias) {

    public LlamaConfig {
        positive("dim", dim);
        positive("layers", layers);
        positive("heads", heads);
        positive("kvHeads", kvHeads);
        positive("headDim", headDim);
        positive("ffnDim", ffnDim);
        positive("vocabularySize", vocabularySize);
        positive("contextLength", contextLength);
        if (heads % kvHeads != 0) {
            throw new ModelFormatException("head count " + heads + " is not a multiple of the KV head count " + kvHeads);
        }
        if (rotaryDim <= 0 || rotaryDim > headDim || rotaryDim % 2 != 0) {
            throw new ModelFormatException("RoPE dimension count " + rotaryDim + " must be even and in 2.." + headDim);
        }
        if (!(rmsEps > 0) || !Float.isFinite(rmsEps)) {
            throw new ModelFormatException("RMSNorm epsilon must be positive, got " + rmsEps);
        }
        if (!(ropeTheta > 0) || !Float.isFinite(ropeTheta)) {
            throw new ModelFormatException("RoPE base frequency must be positive, got " + ropeTheta);
        }
    }

    private static void positive(String name, int v) {
        if (v <= 0) {
            throw new ModelFormatException(name + " must be positive, got " + v);
        }
    }

    /** Width of all query heads together. */
    public int qDim() {
        return heads * headDim;
    }

    /** Width of all key (or value) heads together. */
    public int kvDim() {
        return kvHeads * headDim;
    }

    /** Query heads per KV head. */
    public int groupSize() {
        return heads / kvHeads;
    }

    /** The same configuration with another RoPE pairing (Hugging Face weights rotate halves: NEOX). */
    public LlamaConfig withRopeType(RopeType type) {
        return new LlamaConfig(architecture, dim, layers, heads, kvHeads, headDim, ffnDim, vocabularySize, contextLength,
                rmsEps, ropeTheta, rotaryDim, type, ropeScaling, attentionBias);
    }

    /** Reads the configuration; {@code vocabularySize} comes from the tokenizer's token list. */
    public static LlamaConfig fromGguf(GgufMetadata md, int vocabularySize) {
        String arch = md.getString("general.architecture");
        boolean bias;
        RopeType rope;
        switch (arch) {
            case "llama" -> {
                bias = false;
                rope = RopeType.INTERLEAVED;
            }
            case "qwen2" -> {
                bias = true;
                rope = RopeType.NEOX;
            }
            default -> throw new GgufMetadataException("general.architecture",
                    "architecture '" + arch + "' is not supported (supported: llama, qwen2)");
        }
        int dim = md.getInt(arch + ".embedding_length");
        int heads = md.getInt(arch + ".attention.head_count");
        int kvHeads = md.findInt(arch + ".attention.head_count_kv").orElse(heads);
        if (heads <= 0 || dim % heads != 0 && !md.contains(arch + ".attention.key_length")) {
            throw new GgufMetadataException(arch + ".attention.head_count",
                    "embedding length " + dim + " is not divisible by the head count " + heads);
        }
        int headDim = md.findInt(arch + ".attention.key_length").orElse(heads > 0 ? dim / heads : 0);
        int valueLength = md.findInt(arch + ".attention.value_length").orElse(headDim);
        if (valueLength != headDim) {
            throw new GgufMetadataException(arch + ".attention.value_length",
                    "value length " + valueLength + " differs from key length " + headDim + " (not supported)");
        }
        float theta = md.findFloat(arch + ".rope.freq_base").orElse(10000f);
        int rotary = md.findInt(arch + ".rope.dimension_count").orElse(headDim);
        return new LlamaConfig(arch, dim,
                md.getInt(arch + ".block_count"),
                heads, kvHeads, headDim,
                md.getInt(arch + ".feed_forward_length"),
                vocabularySize,
                md.getInt(arch + ".context_length"),
                md.findFloat(arch + ".attention.layer_norm_rms_epsilon").orElse(1e-5f),
                theta, rotary, rope,
                RopeScaling.fromGguf(md, arch),
                bias);
    }
}
