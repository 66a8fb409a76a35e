package dev.gearbx.engine.tensor;

import static dev.gearbx.engine.tensor.KQuants.B;
import static dev.gearbx.engine.tensor.KQuants.F;
import static dev.gearbx.engine.tensor.KQuants.L;
import static dev.gearbx.engine.tensor.KQuants.QK;

import dev.gearbx.engine.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * ggml Q4_K weights (144 bytes per 256 elements, see {@link KQuants}), read in place. The vector dot widens the
 * 4-bit quants to floats in registers, accumulates {@code q * x} per sub-block of 32 and applies the sub-block's
 * scale and min once per sub-block: {@code sum_j (d * scale_j * sum(q x) - dmin * min_j * sum(x))}.
 */
public final class Q4KMatrix extends WeightMatrix {
    static final int BLOCK_BYTES = 144;
    private final int blocks;

    Q4KMatrix(MemorySegment data, int rows, int cols) {
        super(data, rows, cols);
        this.blocks = KQuants.checkShape(GgmlType.Q4_K, data, rows, cols);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q4_K;
    }

    private long blockOffset(int row, int block) {
        return ((long) row * blocks + block) * BLOCK_BYTES;
    }

    @Override
    public float get(int row, int col) {
        checkElement(row, col);
        return KQuants.q4kElement(data(), blockOffset(row, col / QK), col % QK);
    }

    @Override
    public float dotScalar(int row, float[] x, int xOffset) {
        checkRowAndVector(row, x, xOffset);
        float[] w = new float[QK];
        float sum = 0f;
        for (int b = 0; b < blocks; b++) {
            KQuants.dequantizeBlock(GgmlType.Q4_K, data(), blockOffset(row, b), w, 0);
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
            KQuants.dequantizeBlock(GgmlType.Q4_K, data(), blockOffset(row, b), dst, dstOffset + b * QK);
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
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long off = base + (long) b * BLOCK_BYTES;
            float d = KQuants.half(seg, off);
            float dmin = KQuants.half(seg, off + 2);
            long lo = seg.get(KQuants.LE_LONG, off + 4);
            int hi = seg.get(KQuants.LE_INT, off + 12);
            int xo = xOffset + b * QK;
            for (int g = 0; g < 4; g++) {
                int j = 2 * g;
                FloatVector t = group(seg, off + 16 + 32 * g, x, xo + 64 * g,
                        d * KQuants.scale6(lo, hi, j), d * KQuants.scale6(lo, hi, j + 1),
                        -dmin * KQuants.min6(lo, hi, j), -dmin * KQuants.min6(lo, hi, j + 1));
                if ((g & 1) == 0) {
                    acc0 = acc0.add(t);
                } else {
                    acc1 = acc1.add(t);
                }
            }
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }

    /**
     * The 64 elements sharing 32 quant bytes at {@code qoff} (sub-blocks 2g in the low nibbles, 2g+1 in the high),
     * against {@code x[xo .. xo + 64)}: lanes sum to {@code s0 sum(q0 x0) + s1 sum(q1 x1) + n0 sum(x0) + n1 sum(x1)}.
     */
    private static FloatVector group(MemorySegment seg, long qoff, float[] x, int xo, float s0, float s1, float n0,
            float n1) {
        FloatVector p0 = FloatVector.zero(F);
        FloatVector p1 = FloatVector.zero(F);
        FloatVector xs0 = FloatVector.zero(F);
        FloatVector xs1 = FloatVector.zero(F);
        for (int l = 0; l < 32; l += L) {
            IntVector q = KQuants.bytesToInts(seg, qoff + l);
            FloatVector w0 = (FloatVector) q.and(0xf).convertShape(VectorOperators.I2F, F, 0);
            FloatVector w1 = (FloatVector) q.lanewise(VectorOperators.LSHR, 4).and(0xf).convertShape(VectorOperators.I2F, F, 0);
            FloatVector x0 = FloatVector.fromArray(F, x, xo + l);
            FloatVector x1 = FloatVector.fromArray(F, x, xo + 32 + l);
            p0 = w0.fma(x0, p0);
            p1 = w1.fma(x1, p1);
            xs0 = xs0.add(x0);
            xs1 = xs1.add(x1);
        }
        FloatVector t = p1.mul(s1);
        t = p0.fma(FloatVector.broadcast(F, s0), t);
        t = xs1.fma(FloatVector.broadcast(F, n1), t);
        return xs0.fma(FloatVector.broadcast(F, n0), t);
    }
}
