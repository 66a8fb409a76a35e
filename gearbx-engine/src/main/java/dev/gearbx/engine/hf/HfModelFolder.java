package dev.gearbx.engine.hf;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gearbx.engine.gguf.GgmlType;
import dev.gearbx.engine.gguf.GgufMetadata;
import dev.gearbx.engine.gguf.GgufTensorInfo;
import dev.gearbx.engine.gguf.GgufValue;
import dev.gearbx.engine.gguf.TensorFile;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * A Hugging Face model folder ({@code config.json}, {@code model.safetensors} or shards listed in
 * {@code model.safetensors.index.json}, {@code tokenizer.json}, optionally {@code
 * tokenizer_config.json}) seen as a {@link TensorFile}: GGUF metadata keys and tensor names, ggml
 * shape order, F32/F16/BF16 data as slices of the safetensors mappings (never copied). The query
 * and key weights stay in Hugging Face's layout ({@link #halfRotationLayout()} is true). Closing
 * unmaps every shard.
 *
 * <pre>{@code
 * try (LlamaModel model = LlamaModel.load(Path.of("TinyLlama-1.1B-Chat-v1.0"))) {   // a folder
 *     ...
 * }
 * try (HfModelFolder folder = HfModelFolder.open(Path.of("Qwen2-0.5B"))) {
 *     int layers = folder.metadata().getInt("qwen2.block_count");
 * }
 * }</pre>
 */
public final class HfModelFolder implements TensorFile {
    /** The index file of a sharded checkpoint. */
    public static final String INDEX = "model.safetensors.index.json";
    /** The single-file checkpoint. */
    public static final String SINGLE = "model.safetensors";

    private static final Pattern LAYER = Pattern.compile("model\\.layers\\.(\\d{1,6})\\.(.+)");
    private static final Pattern BLOCK = Pattern.compile("blk\\.(\\d{1,6})\\.(.+)");
    private static final Map<String, String> GLOBAL_NAMES = Map.of(
            "model.embed_tokens.weight", "token_embd.weight",
            "lm_head.weight", "output.weight",
            "model.norm.weight", "output_norm.weight");
    private static final Map<String, String> LAYER_NAMES = Map.ofEntries(
            Map.entry("input_layernorm.weight", "attn_norm.weight"),
            Map.entry("self_attn.q_proj.weight", "attn_q.weight"),
            Map.entry("self_attn.k_proj.weight", "attn_k.weight"),
            Map.entry("self_attn.v_proj.weight", "attn_v.weight"),
            Map.entry("self_attn.o_proj.weight", "attn_output.weight"),
            Map.entry("self_attn.q_proj.bias", "attn_q.bias"),
            Map.entry("self_attn.k_proj.bias", "attn_k.bias"),
            Map.entry("self_attn.v_proj.bias", "attn_v.bias"),
            Map.entry("post_attention_layernorm.weight", "ffn_norm.weight"),
            Map.entry("mlp.gate_proj.weight", "ffn_gate.weight"),
            Map.entry("mlp.up_proj.weight", "ffn_up.weight"),
            Map.entry("mlp.down_proj.weight", "ffn_down.weight"));

    private record Entry(GgufTensorInfo info, SafetensorsFile file, SafetensorsTensor tensor) {}

    private final Path folder;
    private final List<SafetensorsFile> shards;
    private final Map<String, Entry> tensors;
    private final GgufMetadata metadata;

    private HfModelFolder(Path folder, List<SafetensorsFile> shards, Map<String, Entry> tensors, GgufMetadata metadata) {
        this.folder = folder;
        this.shards = shards;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /**
     * Opens a folder: reads {@code config.json}, the tokenizer files and maps the safetensors.
     *
     * @throws HfFormatException naming the file and field when something is missing, malformed or unsupported
     */
    public static HfModelFolder open(Path folder) {
        if (!Files.isDirectory(folder)) {
            throw new HfFormatException(folder, "(folder)", "not a directory");
        }
        Map<String, GgufValue> md = new LinkedHashMap<>(HfConfig.toGguf(folder.resolve("config.json"),
                folder.toAbsolutePath().normalize().getFileName() == null ? "model" : folder.toAbsolutePath().normalize().getFileName().toString()));
        md.putAll(HfTokenizerReader.toGguf(folder));
        List<SafetensorsFile> shards = new ArrayList<>();
        try {
            Map<String, SafetensorsFile> byTensor = openShards(folder, shards);
            Map<String, Entry> tensors = new LinkedHashMap<>();
            long offset = 0;
            for (Map.Entry<String, SafetensorsFile> e : byTensor.entrySet()) {
                String ggufName = ggufName(e.getKey());
                if (ggufName == null) {
                    continue; // not a weight gearbx reads (e.g. rotary_emb.inv_freq)
                }
                SafetensorsFile file = e.getValue();
                SafetensorsTensor t = file.tensor(e.getKey());
                GgmlType type = t.dtype().ggmlType().orElseThrow(() -> new HfFormatException(file.path(),
                        "tensor '" + t.name() + "'.dtype", "dtype " + t.dtype() + " is not supported (supported: F32, F16, BF16)"));
                long[] shape = t.shape();
                long[] ggml = new long[shape.length];
                for (int i = 0; i < shape.length; i++) {
                    ggml[i] = shape[shape.length - 1 - i];
                }
                tensors.put(ggufName, new Entry(new GgufTensorInfo(ggufName, ggml, type, offset), file, t));
                offset += t.byteSize();
            }
            padVocabulary(md, tensors);
            return new HfModelFolder(folder, List.copyOf(shards), Collections.unmodifiableMap(tensors), new GgufMetadata(md));
        } catch (RuntimeException | Error e) {
            shards.forEach(SafetensorsFile::close);
            throw e;
        }
    }

    /** Tensor name to the shard holding it; the shards opened are added to {@code opened}. */
    private static Map<String, SafetensorsFile> openShards(Path folder, List<SafetensorsFile> opened) {
        Map<String, SafetensorsFile> byTensor = new LinkedHashMap<>();
        Path index = folder.resolve(INDEX);
        if (Files.isRegularFile(index)) {
            JsonNode map = Json.readObject(index).get("weight_map");
            if (map == null || !map.isObject()) {
                throw new HfFormatException(index, "weight_map", "missing or not an object of tensor name to file name");
            }
            Map<String, SafetensorsFile> byShard = new LinkedHashMap<>();
            for (Map.Entry<String, JsonNode> e : map.properties()) {
                String shard = e.getValue().asText("");
                if (!e.getValue().isTextual() || shard.isEmpty() || shard.contains("/") || shard.contains("\\")
                        || shard.equals("..") || shard.equals(".")) {
                    throw new HfFormatException(index, "weight_map." + e.getKey(),
                            "must be a file name in the folder, got " + e.getValue());
                }
                SafetensorsFile file = byShard.get(shard);
                if (file == null) {
                    file = SafetensorsFile.open(folder.resolve(shard));
                    opened.add(file);
                    byShard.put(shard, file);
                }
                if (file.find(e.getKey()).isEmpty()) {
                    throw new HfFormatException(index, "weight_map." + e.getKey(), "tensor is not in " + shard);
                }
                byTensor.put(e.getKey(), file);
            }
        } else if (Files.isRegularFile(folder.resolve(SINGLE))) {
            SafetensorsFile file = SafetensorsFile.open(folder.resolve(SINGLE));
            opened.add(file);
            for (SafetensorsTensor t : file.tensors()) {
                byTensor.put(t.name(), file);
            }
        } else {
            throw new HfFormatException(folder, SINGLE, "neither " + SINGLE + " nor " + INDEX + " is in the folder");
        }
        return byTensor;
    }

    /** The GGUF name of a Hugging Face tensor name, or null for tensors gearbx does not read. */
    static @Nullable String ggufName(String hfName) {
        String global = GLOBAL_NAMES.get(hfName);
        if (global != null) {
            return global;
        }
        Matcher m = LAYER.matcher(hfName);
        if (m.matches()) {
            String suffix = LAYER_NAMES.get(m.group(2));
            return suffix == null ? null : "blk." + Integer.parseInt(m.group(1)) + "." + suffix;
        }
        return null;
    }

    /** The Hugging Face name of a GGUF tensor name, or null for names without one. */
    static @Nullable String hfName(String ggufName) {
        for (Map.Entry<String, String> e : GLOBAL_NAMES.entrySet()) {
            if (e.getValue().equals(ggufName)) {
                return e.getKey();
            }
        }
        Matcher m = BLOCK.matcher(ggufName);
        if (m.matches()) {
            for (Map.Entry<String, String> e : LAYER_NAMES.entrySet()) {
                if (e.getValue().equals(m.group(2))) {
                    return "model.layers." + m.group(1) + "." + e.getKey();
                }
            }
        }
        return null;
    }

    /**
     * Embeddings padded beyond the tokenizer (Qwen2's vocab_size is larger than its token list):
     * unused placeholder tokens fill the gap, as GGUF converters write them.
     */
    private static void padVocabulary(Map<String, GgufValue> md, Map<String, Entry> tensors) {
        Entry embedding = tensors.get("token_embd.weight");
        if (embedding == null) {
            return; // LlamaWeights reports the missing tensor
        }
        String[] tokens = (String[]) md.get("tokenizer.ggml.tokens").value();
        long rows = embedding.info().dim(1);
        if (rows <= tokens.length || rows > 16_000_000) {
            return; // fewer rows than tokens: LlamaWeights reports the shape mismatch
        }
        int n = (int) rows;
        String[] padded = Arrays.copyOf(tokens, n);
        int[] types = Arrays.copyOf((int[]) md.get("tokenizer.ggml.token_type").value(), n);
        for (int id = tokens.length; id < n; id++) {
            padded[id] = "[PAD" + id + "]";
            types[id] = HfTokenizerReader.UNUSED;
        }
        md.put("tokenizer.ggml.tokens", GgufValue.ofStrings(padded));
        md.put("tokenizer.ggml.token_type", GgufValue.ofInt32s(types));
        GgufValue scores = md.get("tokenizer.ggml.scores");
        if (scores != null) {
            float[] s = Arrays.copyOf((float[]) scores.value(), n);
            Arrays.fill(s, tokens.length, n, -Float.MAX_VALUE);
            md.put("tokenizer.ggml.scores", GgufValue.ofFloats(s));
        }
    }

    @Override
    public Path path() {
        return folder;
    }

    @Override
    public GgufMetadata metadata() {
        return metadata;
    }

    @Override
    public List<GgufTensorInfo> tensors() {
        return tensors.values().stream().map(Entry::info).toList();
    }

    @Override
    public Optional<GgufTensorInfo> findTensor(String name) {
        return Optional.ofNullable(tensors.get(name)).map(Entry::info);
    }

    @Override
    public MemorySegment tensorData(GgufTensorInfo tensor) {
        Entry e = tensors.get(tensor.name());
        if (e == null) {
            throw new IllegalArgumentException("tensor '" + tensor.name() + "' is not in " + folder);
        }
        return e.file().data(e.tensor());
    }

    @Override
    public long fileSize() {
        return shards.stream().mapToLong(SafetensorsFile::fileSize).sum();
    }

    /** The safetensors files, in the order they were opened. */
    public List<SafetensorsFile> shards() {
        return shards;
    }

    @Override
    public boolean halfRotationLayout() {
        return true;
    }

    @Override
    public void close() {
        shards.forEach(SafetensorsFile::close);
    }
}
