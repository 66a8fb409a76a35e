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

    /** Whether x is arranged for Q6_K's layout (6-bit quants) rather than Q4_K/Q5_K's. */
    abstract boolean sixBitLayout();

    /** The 512-bit kernel: one row starting at {@code base} against x arranged by {@link KQuants#arrange}. */
    abstract float kernel512(MemorySegment seg, long base, float[] xr);

    /** The species-generic kernel: one row starting at {@code base} against plain x. */
    abstract float kernelVector(MemorySegment seg, long base, float[] x, int xOffset);

    /**
     * Single-row dot: the species-generic kernel. The 512-bit kernel needs x permuted first, which costs
     * more than one row (so it only pays in {@link #dotRows}); see {@link #dot512Arranged} for tests.
     */
    @Override
    public final float dot(int row, float[] x, int xOffset) {
        return dotLegacy(row, x, xOffset);
    }

    /** The first vector dot (species-generic, byte loads widened per 8/16 lanes): the fallback below 512 bits. */
    final float dotLegacy(int row, float[] x, int xOffset) {
        checkRowAndVector(row, x, xOffset);
        if (KQuants.B == null) {
            return dotScalar(row, x, xOffset);
        }
        return kernelVector(data(), blockOffset(row, 0), x, xOffset);
    }

    /** The 512-bit kernel for one row, x arranged per call (tests; requires {@link KQuants#V512}). */
    final float dot512Arranged(int row, float[] x, int xOffset) {
        checkRowAndVector(row, x, xOffset);
        return kernel512(data(), blockOffset(row, 0), KQuants.arrange(x, xOffset, blocks, sixBitLayout()));
    }

    /** Arranges x once for the call, then the 512-bit kernel per row. */
    @Override
    final void dotRows(float[] x, int from, int to, float[] out) {
        if (!KQuants.V512) {
            super.dotRows(x, from, to, out);
            return;
        }
        java.util.Objects.checkFromToIndex(from, to, rows());
        java.util.Objects.checkFromIndexSize(0, cols(), x.length);
        float[] xr = KQuants.arrange(x, 0, blocks, sixBitLayout());
        MemorySegment seg = data();
        for (int r = from; r < to; r++) {
            out[r] = kernel512(seg, blockOffset(r, 0), xr);
        }
    }

    @Override
    public final void copyRow(int row, float[] dst, int dstOffset) {
        checkRowAndVector(row, dst, dstOffset);
        for (int b = 0; b < blocks; b++) {
            KQuants.dequantizeBlock(type, data(), blockOffset(row, b), dst, dstOffset + b * QK);
        }
    }
}
