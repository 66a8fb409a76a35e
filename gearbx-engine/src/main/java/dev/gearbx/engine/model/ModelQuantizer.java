package dev.gearbx.engine.model;

import dev.gearbx.engine.gguf.GgmlType;
import dev.gearbx.engine.gguf.GgufFile;
import dev.gearbx.engine.gguf.GgufTensorInfo;
import dev.gearbx.engine.gguf.GgufValue;
import dev.gearbx.engine.gguf.GgufValueType;
import dev.gearbx.engine.gguf.GgufWriter;
import dev.gearbx.engine.tensor.Quantization;
import dev.gearbx.engine.tensor.WeightMatrix;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Objects;
import java.util.regex.Pattern;
import java.util.stream.IntStream;

/**
 * Writes a copy of a GGUF model with its weight matrices re-encoded to another type: every 2-D tensor named
 * {@code token_embd.weight}, {@code output.weight} or {@code blk.N.attn_*.weight} / {@code blk.N.ffn_*.weight}
 * whose row length is a multiple of the target block size and whose current type gearbx can decode. Everything else
 * (norms, biases, other tensors, matrices with odd row lengths) is copied byte for byte, metadata included;
 * {@code general.file_type} is updated (llama.cpp's {@code llama_ftype} numbering) when present.
 */
public final class ModelQuantizer {
    private static final Pattern MATRIX =
            Pattern.compile("token_embd\\.weight|output\\.weight|blk\\.\\d+\\.(attn|ffn)_[A-Za-z0-9_.]*weight");
    private static final int ROWS_PER_TASK = 64;

    private ModelQuantizer() {}

    /**
     * Re-encodes {@code source}'s weight matrices as {@code type} into {@code target}.
     *
     * @throws IllegalArgumentException if floats cannot be encoded as {@code type}
     */
    public static void quantize(Path source, Path target, GgmlType type) {
        quantize(source, target, type, (done, total) -> {});
    }

    /** Told after each re-encoded tensor is written (on the writing thread). */
    @FunctionalInterface
    public interface Progress {
        /**
         * @param done tensors re-encoded so far
         * @param total tensors that will be re-encoded
         */
        void tensorDone(int done, int total);
    }

    /**
     * {@link #quantize(Path, Path, GgmlType)}, telling {@code progress} after each re-encoded tensor
     * (e.g. for a progress bar).
     *
     * @throws IllegalArgumentException if floats cannot be encoded as {@code type}
     */
    public static void quantize(Path source, Path target, GgmlType type, Progress progress) {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(progress, "progress");
        if (!Quantization.canQuantize(type)) {
            throw new IllegalArgumentException("cannot quantize a model to " + type);
        }
        try (GgufFile in = GgufFile.open(source)) {
            GgufWriter w = new GgufWriter().version(in.version() == 2 ? 2 : 3);
            w.putAll(in.metadata());
            in.metadata().find("general.file_type").ifPresent(v -> {
                int ftype = fileType(type);
                if (ftype >= 0) {
                    w.put("general.file_type", v.type() == GgufValueType.UINT32 ? GgufValue.ofUint32(ftype)
                            : GgufValue.ofInt32(ftype));
                }
            });
            int total = (int) in.tensors().stream().filter(t -> reencodes(t, type)).count();
            int[] done = {0};
            for (GgufTensorInfo t : in.tensors()) {
                MemorySegment data = in.tensorData(t);
                if (reencodes(t, type)) {
                    int cols = (int) t.dim(0);
                    int rows = (int) t.dim(1);
                    WeightMatrix src = WeightMatrix.of(t.type(), data, rows, cols);
                    w.tensor(t.name(), type, t.shape(), out -> {
                        reencode(src, type, out);
                        progress.tensorDone(++done[0], total);
                    });
                } else {
                    w.tensor(t.name(), t.type(), t.shape(), data);
                }
            }
            w.write(target);
        }
    }

    /** Whether {@link #quantize} re-encodes tensor {@code t} (rather than copying it). */
    static boolean reencodes(GgufTensorInfo t, GgmlType type) {
        return t.rank() == 2 && MATRIX.matcher(t.name()).matches() && t.dim(0) % type.blockSize() == 0
                && t.type().isSupported() && t.dim(0) <= Integer.MAX_VALUE && t.dim(1) <= Integer.MAX_VALUE;
    }

    private static void reencode(WeightMatrix src, GgmlType type, MemorySegment out) {
        int rows = src.rows();
        int cols = src.cols();
        long rowBytes = type.byteSize(cols);
        int tasks = (rows + ROWS_PER_TASK - 1) / ROWS_PER_TASK;
        IntStream.range(0, tasks).parallel().forEach(task -> {
            float[] row = new float[cols];
            int end = Math.min(rows, (task + 1) * ROWS_PER_TASK);
            for (int r = task * ROWS_PER_TASK; r < end; r++) {
                src.copyRow(r, row, 0);
                Quantization.quantize(type, row, 0, cols, out.asSlice(r * rowBytes, rowBytes));
            }
        });
    }

    /** llama.cpp's {@code llama_ftype} for a model whose matrices are {@code type}, or -1 when there is none. */
    static int fileType(GgmlType type) {
        return switch (type) {
            case F32 -> 0;
            case F16 -> 1;
            case Q4_0 -> 2;
            case Q8_0 -> 7;
            case Q4_K -> 15; // MOSTLY_Q4_K_M
            case Q5_K -> 17; // MOSTLY_Q5_K_M
            case Q6_K -> 18;
            case BF16 -> 32;
            default -> -1;
        };
    }
}
