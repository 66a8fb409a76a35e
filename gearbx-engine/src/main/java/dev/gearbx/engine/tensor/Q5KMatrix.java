package dev.gearbx.engine.tensor;

import static dev.gearbx.engine.tensor.KQuants.B;
import static dev.gearbx.engine.tensor.KQuants.F;
import static dev.gearbx.engine.tensor.KQuants.L;
import static dev.gearbx.engine.tensor.KQuants.LE;
import static dev.gearbx.engine.tensor.KQuants.QK;
import static dev.gearbx.engine.tensor.KQuants.VB;
import static dev.gearbx.engine.tensor.KQuants.VF;
import static dev.gearbx.engine.tensor.KQuants.VI;

import dev.gearbx.engine.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * ggml Q5_K weights (176 bytes per 256 elements, see {@link KQuants}), read in place. The vector dot widens the
 * 5-bit quants (nibble plus a bit from the high-bit plane) to floats in registers, accumulates {@code q * x} per sub-block of 32 and applies the sub-block's
 * scale and min once per sub-block: {@code sum_j (d * scale_j * sum(q x) - dmin * min_j * sum(x))}.
 */
public final class Q5KMatrix extends KQuantMatrix {
    static final int BLOCK_BYTES = 176;

    Q5KMatrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.Q5_K, data, rows, cols);
    }

    @Override
    float element(long offset, int i) {
        return KQuants.q5kElement(data(), offset, i);
    }

    @Override
    boolean sixBitLayout() {
        return false;
    }

    @Override
    float kernel512(MemorySegment seg, long base, float[] xr) {
        return dot512(seg, base, blocks, xr);
    }

    @Override
    float kernelVector(MemorySegment seg, long base, float[] x, int xOffset) {
        return dotVector(seg, base, blocks, x, xOffset);
    }

    /**
     * One row against x arranged by {@link KQuants#arrange}: as Q4_K's (see there), with the fifth bit of each lane
     * moved to bit 4 by a constant shift of the high-bit plane (read once per block as 8 ints duplicated into both
     * halves, the upper half shifted down two places to line up with its sub-blocks).
     */
    private static float dot512(MemorySegment seg, long base, int blocks, float[] xr) {
        FloatVector acc = FloatVector.zero(VF);
        FloatVector accm = FloatVector.zero(VF);
        for (int b = 0; b < blocks; b++) {
            long off = base + (long) b * BLOCK_BYTES;
            int xo = b * KQuants.XSTRIDE;
            IntVector hdr = (IntVector) ByteVector.fromMemorySegment(VB, seg, off, LE)
                    .convertShape(VectorOperators.B2I, VI, 0);
            IntVector sm = hdr.rearrange(KQuants.SC_P).lanewise(VectorOperators.LSHR, KQuants.SC_SHIFT)
                    .and(KQuants.SC_MASK)
                    .or(hdr.rearrange(KQuants.SC_Q).lanewise(VectorOperators.LSHR, 2).and(KQuants.SC_TOP));
            float d = Float.float16ToFloat(seg.get(KQuants.LE_SHORT, off));
            float dmin = Float.float16ToFloat(seg.get(KQuants.LE_SHORT, off + 2));
            FloatVector s = ((FloatVector) sm.convertShape(VectorOperators.I2F, VF, 0))
                    .mul(FloatVector.broadcast(VF, d).blend(-dmin, KQuants.HI8));
            accm = s.fma(FloatVector.fromArray(VF, xr, xo + QK), accm);
            IntVector h = IntVector.fromMemorySegment(VI, seg, off + 16, LE).rearrange(KQuants.DUP0)
                    .lanewise(VectorOperators.LSHR, KQuants.HI_SHIFT);
            IntVector v = IntVector.fromMemorySegment(VI, seg, off + 48, LE);
            IntVector he = h.lanewise(VectorOperators.LSHL, 4);
            IntVector ho = h.lanewise(VectorOperators.LSHL, 7);
            FloatVector e = ((FloatVector) v.and(0xf).or(he.and(0x10))
                    .convertShape(VectorOperators.I2F, VF, 0)).mul(FloatVector.fromArray(VF, xr, xo + 0));
            FloatVector o = ((FloatVector) v.and(0xf0).or(ho.and(0x100))
                    .convertShape(VectorOperators.I2F, VF, 0)).mul(FloatVector.fromArray(VF, xr, xo + 16));
            e = ((FloatVector) v.and(0xf00).or(he.and(0x1000))
                    .convertShape(VectorOperators.I2F, VF, 0)).fma(FloatVector.fromArray(VF, xr, xo + 32), e);
            o = ((FloatVector) v.and(0xf000).or(ho.and(0x10000))
                    .convertShape(VectorOperators.I2F, VF, 0)).fma(FloatVector.fromArray(VF, xr, xo + 48), o);
            e = ((FloatVector) v.and(0xf0000).or(he.and(0x100000))
                    .convertShape(VectorOperators.I2F, VF, 0)).fma(FloatVector.fromArray(VF, xr, xo + 64), e);
            o = ((FloatVector) v.and(0xf00000).or(ho.and(0x1000000))
                    .convertShape(VectorOperators.I2F, VF, 0)).fma(FloatVector.fromArray(VF, xr, xo + 80), o);
            e = ((FloatVector) v.and(0xf000000).or(he.and(0x10000000))
                    .convertShape(VectorOperators.I2F, VF, 0)).fma(FloatVector.fromArray(VF, xr, xo + 96), e);
            o = ((FloatVector) v.lanewise(VectorOperators.LSHR, 28).or(h.lanewise(VectorOperators.LSHR, 21).and(0x10))
                    .convertShape(VectorOperators.I2F, VF, 0)).fma(FloatVector.fromArray(VF, xr, xo + 112), o);
            IntVector w = IntVector.fromMemorySegment(VI, seg, off + 112, LE);
            he = h;
            ho = h.lanewise(VectorOperators.LSHL, 3);
            FloatVector e1 = ((FloatVector) w.and(0xf).or(he.and(0x10))
                    .convertShape(VectorOperators.I2F, VF, 0)).mul(FloatVector.fromArray(VF, xr, xo + 128));
            FloatVector o1 = ((FloatVector) w.and(0xf0).or(ho.and(0x100))
                    .convertShape(VectorOperators.I2F, VF, 0)).mul(FloatVector.fromArray(VF, xr, xo + 144));
            e1 = ((FloatVector) w.and(0xf00).or(he.and(0x1000))
                    .convertShape(VectorOperators.I2F, VF, 0)).fma(FloatVector.fromArray(VF, xr, xo + 160), e1);
            o1 = ((FloatVector) w.and(0xf000).or(ho.and(0x10000))
                    .convertShape(VectorOperators.I2F, VF, 0)).fma(FloatVector.fromArray(VF, xr, xo + 176), o1);
            e1 = ((FloatVector) w.and(0xf0000).or(he.and(0x100000))
                    .convertShape(VectorOperators.I2F, VF, 0)).fma(FloatVector.fromArray(VF, xr, xo + 192), e1);
            o1 = ((FloatVector) w.and(0xf00000).or(ho.and(0x1000000))
                    .convertShape(VectorOperators.I2F, VF, 0)).fma(FloatVector.fromArray(VF, xr, xo + 208), o1);
            e1 = ((FloatVector) w.and(0xf000000).or(he.and(0x10000000))
                    .convertShape(VectorOperators.I2F, VF, 0)).fma(FloatVector.fromArray(VF, xr, xo + 224), e1);
            o1 = ((FloatVector) w.lanewise(VectorOperators.LSHR, 28).or(h.lanewise(VectorOperators.LSHR, 25).and(0x10))
                    .convertShape(VectorOperators.I2F, VF, 0)).fma(FloatVector.fromArray(VF, xr, xo + 240), o1);

            acc = e.fma(s.rearrange(KQuants.SE0), acc);
            acc = o.fma(s.rearrange(KQuants.SO0), acc);
            acc = e1.fma(s.rearrange(KQuants.SE1), acc);
            acc = o1.fma(s.rearrange(KQuants.SO1), acc);
        }
        return acc.add(accm).reduceLanes(VectorOperators.ADD);
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
                FloatVector t = group(seg, off + 48 + 32 * g, off + 16, j, x, xo + 64 * g,
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
     * The 64 elements sharing 32 quant bytes at {@code qoff} (sub-blocks j = 2g in the low nibbles, j+1 in the
     * high) and the 32 high-bit bytes at {@code hoff},
     * against {@code x[xo .. xo + 64)}: lanes sum to {@code s0 sum(q0 x0) + s1 sum(q1 x1) + n0 sum(x0) + n1 sum(x1)}.
     */
    private static FloatVector group(MemorySegment seg, long qoff, long hoff, int j, float[] x, int xo, float s0,
            float s1, float n0, float n1) {
        FloatVector p0 = FloatVector.zero(F);
        FloatVector p1 = FloatVector.zero(F);
        FloatVector xs0 = FloatVector.zero(F);
        FloatVector xs1 = FloatVector.zero(F);
        for (int l = 0; l < 32; l += L) {
            IntVector q = KQuants.bytesToInts(seg, qoff + l);
            // bit j of the high-bit byte is the fifth bit of sub-block j, bit j + 1 that of sub-block j + 1
            IntVector h = KQuants.bytesToInts(seg, hoff + l)
                    .lanewise(VectorOperators.LSHL, 4)
                    .lanewise(VectorOperators.LSHR, j);
            FloatVector w0 = (FloatVector) q.and(0xf).or(h.and(0x10)).convertShape(VectorOperators.I2F, F, 0);
            FloatVector w1 = (FloatVector) q.lanewise(VectorOperators.LSHR, 4).and(0xf)
                    .or(h.lanewise(VectorOperators.LSHR, 1).and(0x10)).convertShape(VectorOperators.I2F, F, 0);
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
