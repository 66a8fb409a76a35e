package dev.gearbx.engine.tensor;

import static dev.gearbx.engine.tensor.KQuants.B;
import static dev.gearbx.engine.tensor.KQuants.F;
import static dev.gearbx.engine.tensor.KQuants.L;
import static dev.gearbx.engine.tensor.KQuants.QK;

import dev.gearbx.engine.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * ggml Q6_K weights (210 bytes per 256 elements, see {@link KQuants}), read in place. The vector dot rebuilds the
 * 6-bit quants in registers: per half block of 128, one byte of the low-nibble plane serves elements {@code l} and
 * {@code l + 64} (or {@code l + 32} and {@code l + 96}) and one byte of the high-bit plane serves all four.
 */
public final class Q6KMatrix extends WeightMatrix {
    static final int BLOCK_BYTES = 210;
    private final int blocks;

    Q6KMatrix(MemorySegment data, int rows, int cols) {
        super(data, rows, cols);
        this.blocks = KQuants.checkShape(GgmlType.Q6_K, data, rows, cols);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q6_K;
    }

    private long blockOffset(int row, int block) {
        return ((long) row * blocks + block) * BLOCK_BYTES;
    }

    @Override
    public float get(int row, int col) {
        checkElement(row, col);
        return KQuants.q6kElement(data(), blockOffset(row, col / QK), col % QK);
    }

    @Override
    public float dotScalar(int row, float[] x, int xOffset) {
        checkRowAndVector(row, x, xOffset);
        float[] w = new float[QK];
        float sum = 0f;
        for (int b = 0; b < blocks; b++) {
            KQuants.dequantizeBlock(GgmlType.Q6_K, data(), blockOffset(row, b), w, 0);
            for (int i = 0; i < QK; i++) {
                sum += w[i] * x[xOffset + b * QK + i];
            }
        }
        return sum;
    }

    @Override
    public void copyRow(int row, float[] dst, int dstOffset) {
        checkRowAndVector(row, dst, dstOffset);
        for (int b = 0; b < blocks; b++) {
            KQuants.dequantizeBlock(GgmlType.Q6_K, data(), blockOffset(row, b), dst, dstOffset + b * QK);
        }
    }

    @Override
    public float dot(int row, float[] x, int xOffset) {
        checkRowAndVector(row, x, xOffset);
        if (B == null) {
            return dotScalar(row, x, xOffset);
        }
        return dotVector(data(), blockOffset(row, 0), blocks, x, xOffset);
    }

    private static float dotVector(MemorySegment seg, long base, int blocks, float[] x, int xOffset) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long off = base + (long) b * BLOCK_BYTES;
            float d = KQuants.half(seg, off + 208);
            acc = acc.add(halfBlock(seg, off, 0, d, x, xOffset + b * QK));
            acc = acc.add(halfBlock(seg, off, 1, d, x, xOffset + b * QK + 128));
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /**
     * Lanes summing to the dot of half {@code n} (elements 128n .. 128n + 127) of the block at {@code blockOff} with
     * {@code x[xo .. xo + 128)}. A separate method so that C2 compiles the loop body whole: in one big method it hit
     * the node-count inlining cutoff and left vectors boxed (about 10x slower).
     */
    private static FloatVector halfBlock(MemorySegment seg, long blockOff, int n, float d, float[] x, int xo) {
        long ql = blockOff + 64 * n;
        long qh = blockOff + 128 + 32 * n;
        long sc = blockOff + 192 + 8 * n;
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        FloatVector acc2 = FloatVector.zero(F);
        FloatVector acc3 = FloatVector.zero(F);
        for (int l = 0; l < 32; l += L) {
            IntVector a = KQuants.bytesToInts(seg, ql + l);
            IntVector c = KQuants.bytesToInts(seg, ql + 32 + l);
            IntVector h = KQuants.bytesToInts(seg, qh + l);
            // element 32k + l: low nibble from a (k = 0, 2) or c (k = 1, 3), high bits 2k, 2k+1 of h
            IntVector q0 = a.and(0xf).or(h.lanewise(VectorOperators.LSHL, 4).and(0x30)).sub(32);
            IntVector q1 = c.and(0xf).or(h.lanewise(VectorOperators.LSHL, 2).and(0x30)).sub(32);
            IntVector q2 = a.lanewise(VectorOperators.LSHR, 4).and(0xf).or(h.and(0x30)).sub(32);
            IntVector q3 = c.lanewise(VectorOperators.LSHR, 4).and(0xf)
                    .or(h.lanewise(VectorOperators.LSHR, 2).and(0x30)).sub(32);
            long s = sc + (l >>> 4); // scale of element 32k + l is byte s + 2k
            acc0 = weights(q0, d, seg, s).fma(FloatVector.fromArray(F, x, xo + l), acc0);
            acc1 = weights(q1, d, seg, s + 2).fma(FloatVector.fromArray(F, x, xo + 32 + l), acc1);
            acc2 = weights(q2, d, seg, s + 4).fma(FloatVector.fromArray(F, x, xo + 64 + l), acc2);
            acc3 = weights(q3, d, seg, s + 6).fma(FloatVector.fromArray(F, x, xo + 96 + l), acc3);
        }
        return acc0.add(acc1).add(acc2.add(acc3));
    }

    private static FloatVector weights(IntVector q, float d, MemorySegment seg, long scaleOff) {
        float s = d * seg.get(ValueLayout.JAVA_BYTE, scaleOff);
        return ((FloatVector) q.convertShape(VectorOperators.I2F, F, 0)).mul(s);
    }
}
