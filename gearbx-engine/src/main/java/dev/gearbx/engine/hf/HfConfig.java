package dev.gearbx.engine.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gearbx.engine.gguf.GgufMetadata;
import dev.gearbx.engine.gguf.GgufValue;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * {@code config.json} of the Llama family ({@code llama}, {@code mistral}) and Qwen2, translated to
 * and from GGUF's {@code <arch>.*} hyperparameter keys: sizes, grouped-query attention, RMSNorm
 * epsilon, RoPE base and scaling ({@code linear}, {@code llama3}). Tied embeddings need no key: a
 * folder without {@code lm_head.weight} ties them, as a GGUF file without {@code output.weight}.
 *
 * <pre>{@code
 * Map<String, GgufValue> md = HfConfig.toGguf(Path.of("Llama-3.2-1B/config.json"), "Llama-3.2-1B");
 * LlamaConfig config = LlamaConfig.fromGguf(new GgufMetadata(md), 128256);   // config.kvHeads() == 8
 * }</pre>
 */
public final class HfConfig {
    private HfConfig() {}

    /**
     * The GGUF metadata ({@code general.*} and {@code <arch>.*}) that {@code config.json} describes.
     *
     * @param name the model's name ({@code general.name})
     * @throws HfFormatException naming the key when a value is missing, invalid or unsupported
     */
    public static Map<String, GgufValue> toGguf(Path configJson, String name) {
        JsonNode c = Json.readObject(configJson);
        String modelType = c.path("model_type").asText("");
        String arch = switch (modelType) {
            case "llama", "mistral" -> "llama";
            case "qwen2" -> "qwen2";
            default -> throw new HfFormatException(configJson, "model_type",
                    "model type '" + modelType + "' is not supported (supported: llama, mistral, qwen2)");
        };
        int dim = Json.positiveInt(configJson, c, "hidden_size");
        int heads = Json.positiveInt(configJson, c, "num_attention_heads");
        int kvHeads = Json.positiveInt(configJson, c, "num_key_value_heads", heads);
        if (heads % kvHeads != 0) {
            throw new HfFormatException(configJson, "num_key_value_heads",
                    kvHeads + " does not divide num_attention_heads " + heads);
        }
        if (dim % heads != 0 && !c.has("head_dim")) {
            throw new HfFormatException(configJson, "num_attention_heads",
                    "hidden_size " + dim + " is not divisible by " + heads + " and there is no head_dim");
        }
        int headDim = Json.positiveInt(configJson, c, "head_dim", dim / heads);
        Map<String, GgufValue> md = new LinkedHashMap<>();
        md.put("general.architecture", GgufValue.ofString(arch));
        md.put("general.name", GgufValue.ofString(name));
        md.put(arch + ".context_length", GgufValue.ofUint32(Json.positiveInt(configJson, c, "max_position_embeddings", 2048)));
        md.put(arch + ".embedding_length", GgufValue.ofUint32(dim));
        md.put(arch + ".block_count", GgufValue.ofUint32(Json.positiveInt(configJson, c, "num_hidden_layers")));
        md.put(arch + ".feed_forward_length", GgufValue.ofUint32(Json.positiveInt(configJson, c, "intermediate_size")));
        md.put(arch + ".attention.head_count", GgufValue.ofUint32(heads));
        md.put(arch + ".attention.head_count_kv", GgufValue.ofUint32(kvHeads));
        if (headDim != dim / heads) {
            md.put(arch + ".attention.key_length", GgufValue.ofUint32(headDim));
            md.put(arch + ".attention.value_length", GgufValue.ofUint32(headDim));
        }
        md.put(arch + ".rope.dimension_count", GgufValue.ofUint32(headDim));
        md.put(arch + ".rope.freq_base", GgufValue.ofFloat32(Json.positiveFloat(configJson, c, "rope_theta", 10000f)));
        md.put(arch + ".attention.layer_norm_rms_epsilon",
                GgufValue.ofFloat32(Json.positiveFloat(configJson, c, "rms_norm_eps", 1e-6f)));
        JsonNode scaling = c.get("rope_scaling");
        if (scaling != null && !scaling.isNull()) {
            putScaling(configJson, scaling, arch, md);
        }
        return md;
    }

    private static void putScaling(Path file, JsonNode s, String arch, Map<String, GgufValue> md) {
        if (!s.isObject()) {
            throw new HfFormatException(file, "rope_scaling", "must be an object or null, got " + s);
        }
        String type = s.has("rope_type") ? s.get("rope_type").asText() : s.path("type").asText("default");
        switch (type.toLowerCase(Locale.ROOT)) {
            case "default" -> { }
            case "linear" -> {
                md.put(arch + ".rope.scaling.type", GgufValue.ofString("linear"));
                md.put(arch + ".rope.scaling.factor", GgufValue.ofFloat32(scalingFloat(file, s, "factor", Float.NaN)));
            }
            case "llama3" -> {
                md.put(arch + ".rope.scaling.type", GgufValue.ofString("llama3"));
                md.put(arch + ".rope.scaling.factor", GgufValue.ofFloat32(scalingFloat(file, s, "factor", Float.NaN)));
                md.put(arch + ".rope.scaling.low_freq_factor", GgufValue.ofFloat32(scalingFloat(file, s, "low_freq_factor", 1f)));
                md.put(arch + ".rope.scaling.high_freq_factor", GgufValue.ofFloat32(scalingFloat(file, s, "high_freq_factor", 4f)));
                md.put(arch + ".rope.scaling.original_context_length", GgufValue.ofUint32(
                        Json.positiveInt(file, s, "original_max_position_embeddings", 8192)));
            }
            default -> throw new HfFormatException(file, "rope_scaling.rope_type",
                    "RoPE scaling '" + type + "' is not supported (supported: default, linear, llama3)");
        }
    }

    private static float scalingFloat(Path file, JsonNode s, String key, float absent) {
        float v = Json.positiveFloat(file, s, key, absent);
        if (Float.isNaN(v)) {
            throw new HfFormatException(file, "rope_scaling." + key, "missing");
        }
        return v;
    }

    /**
     * The {@code config.json} of a GGUF model's hyperparameters ({@code llama} or {@code qwen2}).
     *
     * @param tied whether the model has no separate output matrix
     * @param vocabularySize number of tokens
     */
    public static ObjectNode fromGguf(GgufMetadata md, boolean tied, int vocabularySize) {
        String arch = md.getString("general.architecture");
        ObjectNode c = Json.MAPPER.createObjectNode();
        c.putArray("architectures").add(arch.equals("qwen2") ? "Qwen2ForCausalLM" : "LlamaForCausalLM");
        c.put("model_type", arch);
        int dim = md.getInt(arch + ".embedding_length");
        int heads = md.getInt(arch + ".attention.head_count");
        c.put("hidden_size", dim);
        c.put("intermediate_size", md.getInt(arch + ".feed_forward_length"));
        c.put("num_hidden_layers", md.getInt(arch + ".block_count"));
        c.put("num_attention_heads", heads);
        c.put("num_key_value_heads", md.findInt(arch + ".attention.head_count_kv").orElse(heads));
        c.put("head_dim", md.findInt(arch + ".attention.key_length").orElse(dim / heads));
        c.put("max_position_embeddings", md.getInt(arch + ".context_length"));
        c.put("rms_norm_eps", md.findFloat(arch + ".attention.layer_norm_rms_epsilon").orElse(1e-5f));
        c.put("rope_theta", md.findFloat(arch + ".rope.freq_base").orElse(10000f));
        String scaling = md.findString(arch + ".rope.scaling.type").orElse("none");
        switch (scaling) {
            case "linear" -> c.putObject("rope_scaling").put("rope_type", "linear")
                    .put("factor", md.getFloat(arch + ".rope.scaling.factor"));
            case "llama3" -> c.putObject("rope_scaling").put("rope_type", "llama3")
                    .put("factor", md.getFloat(arch + ".rope.scaling.factor"))
                    .put("low_freq_factor", md.findFloat(arch + ".rope.scaling.low_freq_factor").orElse(1f))
                    .put("high_freq_factor", md.findFloat(arch + ".rope.scaling.high_freq_factor").orElse(4f))
                    .put("original_max_position_embeddings",
                            md.findInt(arch + ".rope.scaling.original_context_length").orElse(8192));
            default -> c.putNull("rope_scaling");
        }
        c.put("tie_word_embeddings", tied);
        c.put("vocab_size", vocabularySize);
        c.put("hidden_act", "silu");
        c.put("torch_dtype", "float32");
        if (arch.equals("llama")) {
            c.put("attention_bias", false);
        }
        return c;
    }
}
