package dev.gearbx.engine.tensor;

import dev.gearbx.engine.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * Row-major matrix {@code [rows][cols]} read in place from a little-endian {@link MemorySegment} (a GGUF
 * tensor with shape {@code ne0 = cols, ne1 = rows}). Never copies the weights into a {@code float[]}.
 *
 * <p>Instances are immutable and safe to share between threads, provided the segment's arena allows it
 * (a confined segment can only be read by its owner thread; {@link Kernels#matvec} then stays on the caller).
 */
public abstract class WeightMatrix {
    private final int rows;
    private final int cols;
    private final MemorySegment data;

    WeightMatrix(MemorySegment data, int rows, int cols) {
        this.data = data;
        this.rows = rows;
        this.cols = cols;
    }

    /**
     * Wraps {@code data} (no copy) as a {@code rows x cols} matrix of {@code type}.
     *
     * @throws IllegalArgumentException if the type is not one of F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K, a dimension is not
     *     positive, {@code cols} is not a multiple of the type's block size (naming {@code cols}), or
     *     {@code data.byteSize()} is not {@code type.byteSize((long) rows * cols)}
     */
    public static WeightMatrix of(GgmlType type, MemorySegment data, int rows, int cols) {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(data, "data");
        switch (type) {
            case F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K -> { }
            default -> throw new IllegalArgumentException(
                    "unsupported weight type " + type + " (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K)");
        }
        if (rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException("matrix dimensions must be positive, got rows=" + rows + " cols=" + cols);
        }
        if (cols % type.blockSize() != 0) {
            throw new IllegalArgumentException("a " + type + " matrix needs cols to be a multiple of its block size "
                    + type.blockSize() + ", got cols=" + cols);
        }
        long expected = type.byteSize((long) rows * cols);
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException("data for a " + rows + "x" + cols + " " + type + " matrix must be "
                    + expected + " bytes, got " + data.byteSize());
        }
        return switch (type) {
            case F32 -> new F32Matrix(data, rows, cols);
            case F16 -> new F16Matrix(data, rows, cols);
            case BF16 -> new BF16Matrix(data, rows, cols);
            case Q8_0 -> new Q8_0Matrix(data, rows, cols);
            case Q4_0 -> new Q4_0Matrix(data, rows, cols);
            case Q4_K, Q5_K, Q6_K -> KQuants.kQuant(type, data, rows, cols);
            default -> throw new AssertionError(type);
        };
    }

    public final int rows() {
        return rows;
    }

    public final int cols() {
        return cols;
    }

    public abstract GgmlType type();

    /** The backing segment (not a copy). */
    public final MemorySegment data() {
        return data;
    }

    public final long byteSize() {
        return data.byteSize();
    }

    /** Element {@code [row][col]}, scalar reference path. */
    public abstract float get(int row, int col);

    /** Scalar reference dot product of row {@code row} with {@code x[xOffset .. xOffset + cols)}. */
    public abstract float dotScalar(int row, float[] x, int xOffset);

    /** Vector API dot product of row {@code row} with {@code x[xOffset .. xOffset + cols)}. */
    public abstract float dot(int row, float[] x, int xOffset);

    /**
     * Vector dot products of rows {@code [from, to)} with {@code x} into {@code out[from .. to)}: the
     * unit of work of one thread in a parallel matvec. The default calls {@link #dot} per row;
     * formats override it to work on several rows at once or to prepare {@code x} once per call
     * (for example quantized to int8 in a thread-local buffer). Must not write outside {@code
     * out[from .. to)}: other threads fill the other rows.
     */
    void dotRows(float[] x, int from, int to, float[] out) {
        for (int r = from; r < to; r++) {
            out[r] = dot(r, x, 0);
        }
    }

    /** Dequantizes row {@code row} into {@code dst[dstOffset .. dstOffset + cols)}. */
    public void copyRow(int row, float[] dst, int dstOffset) {
        checkRow(row);
        Objects.checkFromIndexSize(dstOffset, cols, dst.length);
        for (int c = 0; c < cols; c++) {
            dst[dstOffset + c] = get(row, c);
        }
    }

    /** Checks {@code row} and that {@code x} holds {@code cols} elements from {@code xOffset}. */
    final void checkRowAndVector(int row, float[] x, int xOffset) {
        checkRow(row);
        Objects.checkFromIndexSize(xOffset, cols, x.length);
    }

    final void checkRow(int row) {
        Objects.checkIndex(row, rows);
    }

    final void checkElement(int row, int col) {
        Objects.checkIndex(row, rows);
        Objects.checkIndex(col, cols);
    }

    @Override
    public String toString() {
        return type() + "[" + rows + "x" + cols + "]";
    }
}
