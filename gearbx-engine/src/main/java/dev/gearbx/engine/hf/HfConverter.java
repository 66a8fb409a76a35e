package dev.gearbx.engine.hf;

import dev.gearbx.engine.gguf.GgufFile;
import dev.gearbx.engine.gguf.GgufMetadata;
import dev.gearbx.engine.gguf.GgufTensorInfo;
import dev.gearbx.engine.gguf.GgufWriter;
import dev.gearbx.engine.model.ModelFormatException;
import dev.gearbx.engine.tensor.WeightMatrix;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Converts between Hugging Face model folders and GGUF files (architectures {@code llama} and
 * {@code qwen2}). For {@code llama}, the query and key rows are permuted the way llama.cpp's
 * converter does (GGUF's llama RoPE pairs adjacent dimensions, Hugging Face's rotates halves), and
 * back on export. Folder to GGUF keeps F32/F16/BF16 as they are; GGUF to folder keeps them too and
 * dequantizes other types to F32.
 *
 * <pre>{@code
 * HfConverter.toGguf(Path.of("TinyLlama-1.1B"), Path.of("tinyllama-f16.gguf"));
 * HfConverter.toHuggingFace(Path.of("stories260K.gguf"), Path.of("stories260K-hf"), Long.MAX_VALUE);
 * }</pre>
 */
public final class HfConverter {
    private static final System.Logger LOG = System.getLogger(HfConverter.class.getName());
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private HfConverter() {}

    /**
     * Writes a Hugging Face folder as one GGUF file.
     *
     * @throws HfFormatException if the folder is malformed or unsupported
     */
    public static void toGguf(Path folder, Path gguf) {
        try (HfModelFolder hf = HfModelFolder.open(folder)) {
            GgufMetadata md = hf.metadata();
            String arch = md.getString("general.architecture");
            GgufWriter w = new GgufWriter().putAll(md);
            for (GgufTensorInfo t : hf.tensors()) {
                MemorySegment data = hf.tensorData(t);
                int heads = ropeHeads(md, arch, t.name());
                if (heads > 0) {
                    long rowBytes = t.rank() == 1 ? t.type().byteSize(1) : t.type().byteSize(t.dim(0));
                    w.tensor(t.name(), t.type(), t.shape(), target -> permuteRows(data, target, heads, rowBytes, true));
                } else {
                    w.tensor(t.name(), t.type(), t.shape(), data);
                }
            }
            w.write(gguf);
        }
    }

    /**
     * Writes a GGUF model as a Hugging Face folder: {@code config.json}, the weights as {@code
     * model.safetensors} or, when they exceed {@code maxShardBytes}, as shards with {@code
     * model.safetensors.index.json}, {@code tokenizer.json} and {@code tokenizer_config.json}.
     *
     * @throws ModelFormatException if a tensor has no Hugging Face name (such as {@code rope_freqs.weight})
     */
    public static void toHuggingFace(Path ggufPath, Path folder, long maxShardBytes) {
        if (maxShardBytes <= 0) {
            throw new IllegalArgumentException("maxShardBytes must be positive, got " + maxShardBytes);
        }
        try (GgufFile gguf = GgufFile.open(ggufPath)) {
            GgufMetadata md = gguf.metadata();
            String arch = md.getString("general.architecture");
            Files.createDirectories(folder);
            List<SafetensorsWriter> shards = new ArrayList<>();
            List<List<String>> shardNames = new ArrayList<>();
            long shardBytes = 0;
            for (GgufTensorInfo t : gguf.tensors()) {
                String name = HfModelFolder.hfName(t.name());
                if (name == null) {
                    throw new ModelFormatException("tensor '" + t.name() + "' of " + ggufPath + " has no Hugging Face equivalent");
                }
                SafetensorsDType dtype = SafetensorsDType.of(t.type()).orElse(SafetensorsDType.F32);
                long rows = t.dim(1);
                long cols = t.dim(0);
                long[] shape = t.rank() == 1 ? new long[] {cols} : new long[] {rows, cols};
                long bytes = rows * cols * dtype.byteSize();
                if (shards.isEmpty() || shardBytes > 0 && shardBytes + bytes > maxShardBytes) {
                    shards.add(new SafetensorsWriter());
                    shardNames.add(new ArrayList<>());
                    shardBytes = 0;
                }
                shardBytes += bytes;
                MemorySegment data = gguf.tensorData(t);
                int heads = ropeHeads(md, arch, t.name());
                SafetensorsWriter.TensorData fill;
                if (dtype.ggmlType().orElseThrow() == t.type()) {
                    long rowBytes = t.rank() == 1 ? t.type().byteSize(1) : t.type().byteSize(cols);
                    fill = heads > 0 ? target -> permuteRows(data, target, heads, rowBytes, false) : target -> target.copyFrom(data);
                } else { // quantized: dequantize to F32
                    fill = target -> dequantize(t, data, target, heads);
                }
                shards.getLast().tensor(name, dtype, shape, fill);
                shardNames.getLast().add(name);
            }
            if (shards.size() == 1) {
                shards.getFirst().metadata("format", "pt").write(folder.resolve(HfModelFolder.SINGLE));
            } else {
                ObjectNode index = Json.MAPPER.createObjectNode();
                index.putObject("metadata").put("total_size", gguf.tensors().stream().mapToLong(GgufTensorInfo::byteSize).sum());
                ObjectNode map = index.putObject("weight_map");
                for (int i = 0; i < shards.size(); i++) {
                    String file = String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size());
                    shards.get(i).metadata("format", "pt").write(folder.resolve(file));
                    for (String n : shardNames.get(i)) {
                        map.put(n, file);
                    }
                }
                Json.write(folder.resolve(HfModelFolder.INDEX), index);
            }
            boolean tied = gguf.findTensor("output.weight").isEmpty();
            int vocab = md.getStringArray("tokenizer.ggml.tokens").length;
            Json.write(folder.resolve("config.json"), HfConfig.fromGguf(md, tied, vocab));
            HfTokenizerWriter.write(md, folder);
            LOG.log(System.Logger.Level.DEBUG, () -> "wrote " + folder + " from " + ggufPath + " (" + shards.size() + " shard(s))");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + folder, e);
        }
    }

    /** Heads of a llama query/key tensor whose rows RoPE pairs (0 for any other tensor). */
    private static int ropeHeads(GgufMetadata md, String arch, String name) {
        if (!arch.equals("llama")) {
            return 0; // qwen2 GGUFs keep Hugging Face's layout (NEOX RoPE)
        }
        if (name.endsWith(".attn_q.weight") || name.endsWith(".attn_q.bias")) {
            return md.getInt("llama.attention.head_count");
        }
        if (name.endsWith(".attn_k.weight") || name.endsWith(".attn_k.bias")) {
            int heads = md.getInt("llama.attention.head_count");
            return md.findInt("llama.attention.head_count_kv").orElse(heads);
        }
        return 0;
    }

    /**
     * Row {@code h*d + 2i + j} of the GGUF layout is row {@code h*d + j*d/2 + i} of Hugging Face's
     * ({@code d} the head dimension, {@code j} 0 or 1): copies rows from {@code src} to {@code dst}
     * in that correspondence, to GGUF when {@code toGguf}, else back.
     */
    static void permuteRows(MemorySegment src, MemorySegment dst, int heads, long rowBytes, boolean toGguf) {
        long rows = src.byteSize() / rowBytes;
        if (rows % heads != 0 || (rows / heads) % 2 != 0) {
            throw new ModelFormatException(rows + " query/key rows cannot be split into " + heads + " heads of even size");
        }
        int headDim = (int) (rows / heads);
        int half = headDim / 2;
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < half; i++) {
                for (int j = 0; j < 2; j++) {
                    long gguf = (long) h * headDim + 2L * i + j;
                    long hf = (long) h * headDim + (long) j * half + i;
                    long from = toGguf ? hf : gguf;
                    long to = toGguf ? gguf : hf;
                    MemorySegment.copy(src, from * rowBytes, dst, to * rowBytes, rowBytes);
                }
            }
        }
    }

    private static void dequantize(GgufTensorInfo t, MemorySegment data, MemorySegment target, int heads) {
        int rows = (int) t.dim(1);
        int cols = (int) t.dim(0);
        WeightMatrix m = WeightMatrix.of(t.type(), data, rows, cols);
        float[] row = new float[cols];
        MemorySegment plain = heads > 0 ? MemorySegment.ofArray(new float[rows * cols]) : target;
        for (int r = 0; r < rows; r++) {
            m.copyRow(r, row, 0);
            MemorySegment.copy(row, 0, plain, F32, (long) r * cols * Float.BYTES, cols);
        }
        if (heads > 0) {
            permuteRows(plain, target, heads, t.rank() == 1 ? Float.BYTES : (long) cols * Float.BYTES, false);
        }
    }

}
