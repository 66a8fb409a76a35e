package dev.gearbx.engine.tensor;

import static dev.gearbx.engine.tensor.KQuants.QK;

import dev.gearbx.engine.gguf.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * What the three ggml K-quant matrices share: super-blocks of 256 weights laid out row after row,
 * the scalar reference paths (element, dot, row) through {@link KQuants}, and the geometry. Each
 * subclass adds its own vector kernels.
 */
abstract sealed class KQuantMatrix extends WeightMatrix permits Q4KMatrix, Q5KMatrix, Q6KMatrix {
    private final GgmlType type;
    private final int blockBytes;
    /** super-blocks per row */
    final int blocks;

    KQuantMatrix(GgmlType type, MemorySegment data, int rows, int cols) {
        super(data, rows, cols);
        this.type = type;
        this.blockBytes = type.typeSize();
        this.blocks = KQuants.checkShape(type, data, rows, cols);
    }

    @Override
    public final GgmlType type() {
        return type;
    }

    /** Byte offset of super-block {@code block} of row {@code row}. */
    final long blockOffset(int row, int block) {
        return ((long) row * blocks + block) * blockBytes;
    }

    /** Element {@code i} (0..255) of the super-block at {@code offset}, scalar reference. */
    abstract float element(long offset, int i);

    @Override
    public final float get(int row, int col) {
        checkElement(row, col);
        return element(blockOffset(row, col / QK), col % QK);
    }

    @Override
    public final float dotScalar(int row, float[] x, int xOffset) {
        checkRowAndVector(row, x, xOffset);
        float[] w = new float[QK];
        float sum = 0f;
        for (int b = 0; b < blocks; b++) {
            KQuants.dequantizeBlock(type, data(), blockOffset(row, b), w, 0);
            for (int i = 0; i < QK; i++) {
                sum += w[i] * x[xOffset + b * QK + i];
            }
        }
        return sum;
    }

    @Override
    public final void copyRow(int row, float[] dst, int dstOffset) {
        checkRowAndVector(row, dst, dstOffset);
        for (int b = 0; b < blocks; b++) {
            KQuants.dequantizeBlock(type, data(), blockOffset(row, b), dst, dstOffset + b * QK);
        }
    }
}
