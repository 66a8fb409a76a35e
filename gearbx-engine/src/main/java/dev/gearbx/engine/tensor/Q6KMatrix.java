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
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * ggml Q6_K weights (210 bytes per 256 elements, see {@link KQuants}), read in place. The vector dot rebuilds the
 * 6-bit quants in registers: per half block of 128, one byte of the low-nibble plane serves elements {@code l} and
 * {@code l + 64} (or {@code l + 32} and {@code l + 96}) and one byte of the high-bit plane serves all four.
 */
public final class Q6KMatrix extends KQuantMatrix {
    static final int BLOCK_BYTES = 210;

    Q6KMatrix(MemorySegment data, int rows, int cols) {
        super(GgmlType.Q6_K, data, rows, cols);
    }

    @Override
    float element(long offset, int i) {
        return KQuants.q6kElement(data(), offset, i);
    }

    @Override
    boolean sixBitLayout() {
        return true;
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
     * One row against x arranged by {@link KQuants#arrange}. Per block: each 64-byte half of the low-nibble plane is
     * one int vector, nibble k of half c giving elements 128c + 32(2(k % 2) + i / 8) + 4(i % 8) + k / 2; the high
     * bits come from the high-bit plane's ints of that half duplicated into both halves (upper half shifted down two
     * places), bits 4k, 4k + 1 moved to bits 4, 5 by a constant shift. The unsigned q (0..63) is accumulated against
     * x; the 16 int8 scales (times d) are applied per lane once per block (lane i of (c, k % 2) has scale group
     * 8c + 4(k % 2) + i / 4), and the -32 offset is one FMA of the scales with the arranged -32 * group sums of x.
     */
    private static float dot512(MemorySegment seg, long base, int blocks, float[] xr) {
        FloatVector acc = FloatVector.zero(VF);
        FloatVector accm = FloatVector.zero(VF);
        for (int b = 0; b < blocks; b++) {
            long off = base + (long) b * BLOCK_BYTES;
            int xo = b * KQuants.XSTRIDE;
            float d = Float.float16ToFloat(seg.get(KQuants.LE_SHORT, off + 208));
            FloatVector s = ((FloatVector) ByteVector.fromMemorySegment(VB, seg, off + 192, LE)
                    .convertShape(VectorOperators.B2I, VI, 0).convertShape(VectorOperators.I2F, VF, 0)).mul(d);
            accm = s.fma(FloatVector.fromArray(VF, xr, xo + QK), accm);
            IntVector qh = IntVector.fromMemorySegment(VI, seg, off + 128, LE);
            IntVector v = IntVector.fromMemorySegment(VI, seg, off + 0, LE);
            IntVector h0 = qh.rearrange(KQuants.DUP0).lanewise(VectorOperators.LSHR, KQuants.HI_SHIFT);
            IntVector g0 = h0.lanewise(VectorOperators.LSHL, 4);
            FloatVector e = ((FloatVector) v.and(0xf).or(g0.and(0x30))
                    .convertShape(VectorOperators.I2F, VF, 0)).mul(FloatVector.fromArray(VF, xr, xo + 0));
            FloatVector o = ((FloatVector) v.and(0xf0).or(g0.and(0x300))
                    .convertShape(VectorOperators.I2F, VF, 0)).mul(FloatVector.fromArray(VF, xr, xo + 16));
            e = ((FloatVector) v.and(0xf00).or(g0.and(0x3000))
                    .convertShape(VectorOperators.I2F, VF, 0)).fma(FloatVector.fromArray(VF, xr, xo + 32), e);
            o = ((FloatVector) v.and(0xf000).or(g0.and(0x30000))
                    .convertShape(VectorOperators.I2F, VF, 0)).fma(FloatVector.fromArray(VF, xr, xo + 48), o);
            e = ((FloatVector) v.and(0xf0000).or(g0.and(0x300000))
                    .convertShape(VectorOperators.I2F, VF, 0)).fma(FloatVector.fromArray(VF, xr, xo + 64), e);
            o = ((FloatVector) v.and(0xf00000).or(g0.and(0x3000000))
                    .convertShape(VectorOperators.I2F, VF, 0)).fma(FloatVector.fromArray(VF, xr, xo + 80), o);
            e = ((FloatVector) v.and(0xf000000).or(g0.and(0x30000000))
                    .convertShape(VectorOperators.I2F, VF, 0)).fma(FloatVector.fromArray(VF, xr, xo + 96), e);
            o = ((FloatVector) v.lanewise(VectorOperators.LSHR, 28).or(h0.lanewise(VectorOperators.LSHR, 24).and(0x30))
                    .convertShape(VectorOperators.I2F, VF, 0)).fma(FloatVector.fromArray(VF, xr, xo + 112), o);
            IntVector w = IntVector.fromMemorySegment(VI, seg, off + 64, LE);
            IntVector h1 = qh.rearrange(KQuants.DUP1).lanewise(VectorOperators.LSHR, KQuants.HI_SHIFT);
            IntVector g1 = h1.lanewise(VectorOperators.LSHL, 4);
            FloatVector e1 = ((FloatVector) w.and(0xf).or(g1.and(0x30))
                    .convertShape(VectorOperators.I2F, VF, 0)).mul(FloatVector.fromArray(VF, xr, xo + 128));
            FloatVector o1 = ((FloatVector) w.and(0xf0).or(g1.and(0x300))
                    .convertShape(VectorOperators.I2F, VF, 0)).mul(FloatVector.fromArray(VF, xr, xo + 144));
            e1 = ((FloatVector) w.and(0xf00).or(g1.and(0x3000))
                    .convertShape(VectorOperators.I2F, VF, 0)).fma(FloatVector.fromArray(VF, xr, xo + 160), e1);
            o1 = ((FloatVector) w.and(0xf000).or(g1.and(0x30000))
                    .convertShape(VectorOperators.I2F, VF, 0)).fma(FloatVector.fromArray(VF, xr, xo + 176), o1);
            e1 = ((FloatVector) w.and(0xf0000).or(g1.and(0x300000))
                    .convertShape(VectorOperators.I2F, VF, 0)).fma(FloatVector.fromArray(VF, xr, xo + 192), e1);
            o1 = ((FloatVector) w.and(0xf00000).or(g1.and(0x3000000))
                    .convertShape(VectorOperators.I2F, VF, 0)).fma(FloatVector.fromArray(VF, xr, xo + 208), o1);
            e1 = ((FloatVector) w.and(0xf000000).or(g1.and(0x30000000))
                    .convertShape(VectorOperators.I2F, VF, 0)).fma(FloatVector.fromArray(VF, xr, xo + 224), e1);
            o1 = ((FloatVector) w.lanewise(VectorOperators.LSHR, 28).or(h1.lanewise(VectorOperators.LSHR, 24).and(0x30))
                    .convertShape(VectorOperators.I2F, VF, 0)).fma(FloatVector.fromArray(VF, xr, xo + 240), o1);

            acc = e.fma(s.rearrange(KQuants.S6_0), acc);
            acc = o.fma(s.rearrange(KQuants.S6_1), acc);
            acc = e1.fma(s.rearrange(KQuants.S6_2), acc);
            acc = o1.fma(s.rearrange(KQuants.S6_3), acc);
        }
        return acc.add(accm).reduceLanes(VectorOperators.ADD);
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
