package dev.gearbx.engine.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Species, layouts and the per-thread int8 activation buffer shared by the 32-element block formats (Q8_0, Q4_0).
 *
 * <p>Float path: bytes are loaded 16 at a time ({@link #B16}) and widened to {@link #PARTS} float vectors of
 * {@link #L} lanes. Int8 path: activations are quantized to int8 once per {@code dotRows} call and kept widened to
 * shorts, weight bytes widen to a short vector of the preferred shape ({@link #S}, {@code 2L} lanes), products sum
 * pairwise into ints ({@link #I}).
 */
final class QuantVectors {
    static final int QK = 32;
    static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    static final VectorSpecies<Integer> I = F.withLanes(int.class);
    static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    /** Float vectors per 16 bytes. */
    static final int PARTS = 16 / Math.max(1, Math.min(16, L));
    /** Whether the float vector path applies (4 to 16 float lanes). */
    static final boolean FLOAT_OK = L >= 4 && L <= 16;

    /** Short species of the preferred shape (2L lanes), null when too narrow. */
    static final VectorSpecies<Short> S = F.vectorBitSize() >= 128 ? F.withLanes(short.class) : null;
    /** Bytes widening to {@link #S} (2L lanes, half the bits); null when too narrow. */
    static final VectorSpecies<Byte> BS = F.vectorBitSize() >= 128
            ? VectorSpecies.of(byte.class, VectorShape.forBitSize(F.vectorBitSize() / 2)) : null;
    /** Short species of half the preferred shape (L lanes), used by Q4_0's 16-byte halves. */
    static final VectorSpecies<Short> SH = F.vectorBitSize() >= 128
            ? VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2)) : null;
    /** Whether the int8 path applies: 2L short lanes divide a 32-element block, 16 bytes fill whole short vectors. */
    static final boolean INT_OK = S != null && QK % (2 * L) == 0 && 16 % L == 0;

    /**
     * Default dot path for Q8_0/Q4_0: false = dequantize weights to float and FMA with float x; true = x quantized to
     * int8 per block, integer block dots. QuantMatVecBench (2-core AVX-512 Xeon, loaded machine, 2048x8192, 1 thread):
     * Q8_0 float 6.1 GB/s vs int8 6.4 (within noise, and int8 adds x rounding error), Q4_0 float 3.6 vs int8 1.5;
     * so float is the default. With the 4-row float kernels (same bench, 1 thread, 2048x8192 / 8192x2048): Q8_0
     * float 7.9 / 8.1 vs int8 6.0 / 5.9, Q4_0 float 4.5 / 4.6 vs int8 3.3 / 3.1. System property {@code gearbx.quant.int8Activations=true} switches.
     */
    static final boolean INT8_DEFAULT = Boolean.parseBoolean(
            System.getProperty("gearbx.quant.int8Activations", "false"));

    /** Whether the multi-row float kernels apply: 512-bit vectors, one float vector per 16 bytes of a block. */
    static final boolean ROWS4_OK = L == 16;

    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[0]);

    private static final ThreadLocal<Q8Activations> ACTIVATIONS = ThreadLocal.withInitial(Q8Activations::new);

    private QuantVectors() {}

    static float half(MemorySegment seg, long offset) {
        return Float.float16ToFloat(seg.get(LE_SHORT, offset));
    }

    /** Floats per block of x arranged by {@link #arrangeQ4_0}. */
    static final int Q4_0_XSTRIDE = 48;

    /**
     * x arranged for Q4_0's multi-row kernels, in this thread's buffer, {@link #Q4_0_XSTRIDE} floats per 32-block:
     * elements 0-15, elements 16-31 scaled by 1/16 (exact: the kernel reads high nibbles as {@code q << 4}), then
     * -8 times (element j + element j + 16) in lane j: the "-8" offset of the block's 32 weights, folded into 16 lanes
     * whose sum is -8 sum(x) (added once per row and block, before the scale).
     */
    static float[] arrangeQ4_0(float[] x, int cols) {
        int blocks = cols / QK;
        float[] xr = SCRATCH.get();
        if (xr.length < blocks * Q4_0_XSTRIDE) {
            xr = new float[blocks * Q4_0_XSTRIDE];
            SCRATCH.set(xr);
        }
        for (int b = 0; b < blocks; b++) {
            int o = b * QK;
            int ro = b * Q4_0_XSTRIDE;
            FloatVector lo = FloatVector.fromArray(F, x, o);
            FloatVector hi = FloatVector.fromArray(F, x, o + 16);
            lo.intoArray(xr, ro);
            hi.mul(0.0625f).intoArray(xr, ro + 16);
            lo.add(hi).mul(-8f).intoArray(xr, ro + 32);
        }
        return xr;
    }

    /** x[0 .. cols) quantized to int8 in blocks of 32 (as llama.cpp's q8_0 activations), in this thread's buffer. */
    static Q8Activations quantizeActivations(float[] x, int cols) {
        Q8Activations a = ACTIVATIONS.get();
        a.quantize(x, cols);
        return a;
    }

    /** Int8 activations widened to shorts, one float scale per 32-block. */
    static final class Q8Activations {
        short[] q = new short[0];
        float[] d = new float[0];

        void quantize(float[] x, int cols) {
            if (q.length < cols) {
                q = new short[cols];
                d = new float[cols / QK];
            }
            for (int b = 0; b < cols / QK; b++) {
                int o = b * QK;
                float amax = 0f;
                for (int j = 0; j < QK; j++) {
                    amax = Math.max(amax, Math.abs(x[o + j]));
                }
                float scale = amax / 127f;
                float inv = scale != 0f ? 1f / scale : 0f;
                d[b] = scale;
                for (int j = 0; j < QK; j++) {
                    q[o + j] = (short) Math.round(x[o + j] * inv);
                }
            }
        }
    }

    /** Sum of the int lanes pairs of a short product vector: lane i = p[2i] + p[2i+1] as int. */
    static IntVector pairSum(ShortVector p) {
        IntVector i = p.reinterpretAsInts();
        return i.lanewise(jdk.incubator.vector.VectorOperators.LSHL, 16)
                .lanewise(jdk.incubator.vector.VectorOperators.ASHR, 16)
                .add(i.lanewise(jdk.incubator.vector.VectorOperators.ASHR, 16));
    }
}
