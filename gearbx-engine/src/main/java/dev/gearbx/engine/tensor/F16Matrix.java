package dev.gearbx.engine.tensor;

import static dev.gearbx.engine.tensor.HalfVectors.F;
import static dev.gearbx.engine.tensor.HalfVectors.I;
import static dev.gearbx.engine.tensor.HalfVectors.L;
import static dev.gearbx.engine.tensor.HalfVectors.S;

import dev.gearbx.engine.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import org.jspecify.annotations.Nullable;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * IEEE binary16 weights, little-endian, read in place and widened to float on the fly.
 *
 * <p>The vector dot skips the Inf/NaN fix-up of {@link HalfVectors#halfToFloat} (it costs ~40% of the loop): each
 * row is scanned once for exponent-31 halves on first use, and the rare rows that hold any go the scalar way;
 * rows dense in subnormal halves go through the hardware conversion ({@link #dotConverted}).
 */
public final class F16Matrix extends WeightMatrix {
    private static final ValueLayout.OfShort LE_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final int B = Short.BYTES;
    private static final byte UNKNOWN = 0;
    private static final byte FINITE = 1;
    private static final byte SPECIAL = 2;
    /** Finite, but so many subnormal halves that the shift-trick kernels would stall on float-subnormal assists. */
    private static final byte TINY = 3;
    /** Halves converted per pass of {@link #dotConverted}. */
    private static final int CHUNK = 512;

    /** Per row: whether it was scanned and holds no Inf/NaN. Racy but idempotent, so no synchronization. */
    private final byte[] rowState;

    F16Matrix(MemorySegment data, int rows, int cols) {
        super(data, rows, cols);
        this.rowState = new byte[rows];
    }

    @Override
    public GgmlType type() {
        return GgmlType.F16;
    }

    @Override
    public float get(int row, int col) {
        checkElement(row, col);
        return Float.float16ToFloat(data().get(LE_SHORT, ((long) row * cols() + col) * B));
    }

    @Override
    public float dotScalar(int row, float[] x, int xOffset) {
        checkRowAndVector(row, x, xOffset);
        MemorySegment seg = data();
        int cols = cols();
        long base = (long) row * cols * B;
        float sum = 0f;
        for (int c = 0; c < cols; c++) {
            sum += Float.float16ToFloat(seg.get(LE_SHORT, base + (long) c * B)) * x[xOffset + c];
        }
        return sum;
    }

    @Override
    public float dot(int row, float[] x, int xOffset) {
        checkRowAndVector(row, x, xOffset);
        if (S == null) {
            return dotScalar(row, x, xOffset);
        }
        byte state = state(row);
        if (state == SPECIAL) {
            return dotScalar(row, x, xOffset);
        }
        if (state == TINY) {
            return dotConverted(data(), (long) row * cols() * B, cols(), x, xOffset, new float[CHUNK]);
        }
        return dotFinite(data(), (long) row * cols() * B, cols(), x, xOffset);
    }

    /** Dot of a row without Inf/NaN; the conversion is written out in the loop so that C2 never leaves it a call. */
    private static float dotFinite(MemorySegment seg, long base, int cols, float[] x, int xOffset) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        FloatVector acc2 = FloatVector.zero(F);
        FloatVector acc3 = FloatVector.zero(F);
        int c = 0;
        // Per lane: sign-extend, shift exponent+mantissa to bits 27..13 with the sign kept at bit 31 (and-mask drops
        // the sign copies at bits 30..28), then scale by 2^112 to re-bias the exponent; exact for normals,
        // subnormals and zeros. Four independent accumulators hide the FMA latency.
        int bound4 = cols - cols % (4 * L);
        for (; c < bound4; c += 4 * L) {
            long off = base + (long) c * B;
            int xo = xOffset + c;
            IntVector h0 = (IntVector) ShortVector.fromMemorySegment(S, seg, off, LE)
                    .convertShape(VectorOperators.S2I, I, 0);
            IntVector h1 = (IntVector) ShortVector.fromMemorySegment(S, seg, off + (long) L * B, LE)
                    .convertShape(VectorOperators.S2I, I, 0);
            IntVector h2 = (IntVector) ShortVector.fromMemorySegment(S, seg, off + 2L * L * B, LE)
                    .convertShape(VectorOperators.S2I, I, 0);
            IntVector h3 = (IntVector) ShortVector.fromMemorySegment(S, seg, off + 3L * L * B, LE)
                    .convertShape(VectorOperators.S2I, I, 0);
            FloatVector w0 = h0.lanewise(VectorOperators.LSHL, 13).and(0x8fffe000).reinterpretAsFloats();
            FloatVector w1 = h1.lanewise(VectorOperators.LSHL, 13).and(0x8fffe000).reinterpretAsFloats();
            FloatVector w2 = h2.lanewise(VectorOperators.LSHL, 13).and(0x8fffe000).reinterpretAsFloats();
            FloatVector w3 = h3.lanewise(VectorOperators.LSHL, 13).and(0x8fffe000).reinterpretAsFloats();
            acc0 = w0.mul(0x1p112f).fma(FloatVector.fromArray(F, x, xo), acc0);
            acc1 = w1.mul(0x1p112f).fma(FloatVector.fromArray(F, x, xo + L), acc1);
            acc2 = w2.mul(0x1p112f).fma(FloatVector.fromArray(F, x, xo + 2 * L), acc2);
            acc3 = w3.mul(0x1p112f).fma(FloatVector.fromArray(F, x, xo + 3 * L), acc3);
        }
        int bound1 = cols - cols % L;
        for (; c < bound1; c += L) {
            IntVector h0 = (IntVector) ShortVector.fromMemorySegment(S, seg, base + (long) c * B, LE)
                    .convertShape(VectorOperators.S2I, I, 0);
            FloatVector w0 = h0.lanewise(VectorOperators.LSHL, 13).and(0x8fffe000).reinterpretAsFloats();
            acc0 = w0.mul(0x1p112f).fma(FloatVector.fromArray(F, x, xOffset + c), acc0);
        }
        float sum = acc0.add(acc1).add(acc2.add(acc3)).reduceLanes(VectorOperators.ADD);
        for (; c < cols; c++) {
            sum += Float.float16ToFloat(seg.get(LE_SHORT, base + (long) c * B)) * x[xOffset + c];
        }
        return sum;
    }

    /**
     * {@code x} prepared once per matrix-vector product for the pair kernels: {@code even[j] = x[2j] * scale} and
     * {@code odd[j] = x[2j + 1] * scale} with {@code scale = 2^112}, so that a half's bits moved into a float (a
     * value 2^112 times too small) times the scaled x is exactly the product of the half and x. Null from
     * {@link #prepare} when scaling could overflow (some |x| >= 2^16, or non-finite x): callers then use {@link #dot}.
     */
    record PreparedX(float[] x, float[] even, float[] odd) {}

    /** Whether {@link #dotRows} uses the row-block pair kernels; false restores the row-at-a-time kernel. */
    static volatile boolean rowBlocks = !Boolean.getBoolean("gearbx.f16.rowAtATime");

    /** Prepares {@code x[0 .. n)} for {@link #dotRows}, or returns null when it cannot be scaled exactly. */
    static @Nullable PreparedX prepare(float[] x, int n) {
        if (S == null || !rowBlocks) {
            return null;
        }
        int pairs = n / 2;
        float[] even = new float[pairs];
        float[] odd = new float[pairs];
        for (int j = 0; j < pairs; j++) {
            float e = x[2 * j];
            float o = x[2 * j + 1];
            // Written as !(|v| < 2^16) so that NaN also falls back.
            if (!(Math.abs(e) < 0x1p16f) || !(Math.abs(o) < 0x1p16f)) {
                return null;
            }
            even[j] = e * 0x1p112f;
            odd[j] = o * 0x1p112f;
        }
        if (n % 2 != 0 && !(Math.abs(x[n - 1]) < 0x1p16f)) {
            return null;
        }
        return new PreparedX(x, even, odd);
    }

    /**
     * {@code out[r] = dot(r, x, 0)} for rows {@code [from, to)}, four rows per pass where all four are finite (each
     * load of x then serves four rows). {@code p} must come from {@link #prepare} on the same x, at least
     * {@code cols} long; a null {@code p} falls back to {@link #dot} per row.
     */
    void dotRows(@Nullable PreparedX p, float[] x, float[] out, int from, int to) {
        if (p == null) {
            for (int r = from; r < to; r++) {
                out[r] = dot(r, x, 0);
            }
            return;
        }
        MemorySegment seg = data();
        int cols = cols();
        long stride = (long) cols * B;
        float[] buf = null;
        int r = from;
        while (r < to) {
            if (to - r >= 4 && finite(r) && finite(r + 1) && finite(r + 2) && finite(r + 3)) {
                dot4(seg, r * stride, stride, cols, p, out, r);
                r += 4;
            } else if (to - r >= 2 && finite(r) && finite(r + 1)) {
                dot2(seg, r * stride, stride, cols, p, out, r);
                r += 2;
            } else if (finite(r)) {
                out[r] = dot1(seg, r * stride, cols, p);
                r++;
            } else if (rowState[r] == TINY) {
                if (buf == null) {
                    buf = new float[CHUNK];
                }
                out[r] = dotConverted(seg, r * stride, cols, x, 0, buf);
                r++;
            } else {
                out[r] = dotScalar(r, x, 0);
                r++;
            }
        }
    }

    /** Whether row {@code row} holds no Inf/NaN and few subnormals (scanned on first use). */
    private boolean finite(int row) {
        return state(row) == FINITE;
    }

    private byte state(int row) {
        byte state = rowState[row];
        if (state == UNKNOWN) {
            state = scan(row);
            rowState[row] = state;
        }
        return state;
    }

    /**
     * Dot of a row via {@link Float#float16ToFloat} into {@code buf} (C2 vectorizes that loop into hardware
     * conversions), then a float dot: slower than the shift trick on typical weights, but it never makes a float
     * subnormal, so it keeps its speed on rows full of subnormal halves (measured ~4.8 GB/s vs ~1.3 at 3% subnormals).
     */
    private static float dotConverted(MemorySegment seg, long base, int cols, float[] x, int xOffset, float[] buf) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        float sum = 0f;
        for (int c0 = 0; c0 < cols; c0 += buf.length) {
            int n = Math.min(buf.length, cols - c0);
            long off = base + (long) c0 * B;
            for (int i = 0; i < n; i++) {
                buf[i] = Float.float16ToFloat(seg.get(LE_SHORT, off + (long) i * B));
            }
            int i = 0;
            int bound2 = n - n % (2 * L);
            for (; i < bound2; i += 2 * L) {
                acc0 = FloatVector.fromArray(F, buf, i).fma(FloatVector.fromArray(F, x, xOffset + c0 + i), acc0);
                acc1 = FloatVector.fromArray(F, buf, i + L)
                        .fma(FloatVector.fromArray(F, x, xOffset + c0 + i + L), acc1);
            }
            for (; i < n; i++) {
                sum += buf[i] * x[xOffset + c0 + i];
            }
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD) + sum;
    }

    // The pair kernels load ints: lane j holds half 2j in its low 16 bits and half 2j+1 in its high 16 bits. An
    // arithmetic shift puts a half's sign at bit 31 (and copies at 30..28) and its exponent+mantissa at bits 27..13;
    // the and-mask drops the sign copies and the neighbour's bits. The float is then the half times 2^-112 (also for
    // subnormals and zeros), and x carries the 2^112. Constants are hoisted so C2 keeps them in registers.

    private static float dot1(MemorySegment seg, long base, int cols, PreparedX p) {
        float[] xe = p.even();
        float[] xo = p.odd();
        IntVector mask = IntVector.broadcast(I, 0x8fffe000);
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        FloatVector acc2 = FloatVector.zero(F);
        FloatVector acc3 = FloatVector.zero(F);
        int pairs = cols / 2;
        int j = 0;
        int bound2 = pairs - pairs % (2 * L);
        for (; j < bound2; j += 2 * L) {
            long off = base + (long) j * 4;
            IntVector i0 = IntVector.fromMemorySegment(I, seg, off, LE);
            IntVector i1 = IntVector.fromMemorySegment(I, seg, off + 4L * L, LE);
            acc0 = lo(i0, mask).fma(FloatVector.fromArray(F, xe, j), acc0);
            acc1 = hi(i0, mask).fma(FloatVector.fromArray(F, xo, j), acc1);
            acc2 = lo(i1, mask).fma(FloatVector.fromArray(F, xe, j + L), acc2);
            acc3 = hi(i1, mask).fma(FloatVector.fromArray(F, xo, j + L), acc3);
        }
        int bound1 = pairs - pairs % L;
        for (; j < bound1; j += L) {
            IntVector i0 = IntVector.fromMemorySegment(I, seg, base + (long) j * 4, LE);
            acc0 = lo(i0, mask).fma(FloatVector.fromArray(F, xe, j), acc0);
            acc1 = hi(i0, mask).fma(FloatVector.fromArray(F, xo, j), acc1);
        }
        float sum = acc0.add(acc1).add(acc2.add(acc3)).reduceLanes(VectorOperators.ADD);
        return sum + tail(seg, base, cols, 2 * j, p.x());
    }

    private static void dot2(MemorySegment seg, long base, long stride, int cols, PreparedX p, float[] out, int r) {
        float[] xe = p.even();
        float[] xo = p.odd();
        IntVector mask = IntVector.broadcast(I, 0x8fffe000);
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F);
        FloatVector b1 = FloatVector.zero(F);
        long base1 = base + stride;
        int pairs = cols / 2;
        int j = 0;
        int bound = pairs - pairs % L;
        for (; j < bound; j += L) {
            FloatVector e = FloatVector.fromArray(F, xe, j);
            FloatVector o = FloatVector.fromArray(F, xo, j);
            IntVector i0 = IntVector.fromMemorySegment(I, seg, base + (long) j * 4, LE);
            IntVector i1 = IntVector.fromMemorySegment(I, seg, base1 + (long) j * 4, LE);
            a0 = lo(i0, mask).fma(e, a0);
            a1 = hi(i0, mask).fma(o, a1);
            b0 = lo(i1, mask).fma(e, b0);
            b1 = hi(i1, mask).fma(o, b1);
        }
        int c = 2 * j;
        float[] x = p.x();
        out[r] = a0.add(a1).reduceLanes(VectorOperators.ADD) + tail(seg, base, cols, c, x);
        out[r + 1] = b0.add(b1).reduceLanes(VectorOperators.ADD) + tail(seg, base1, cols, c, x);
    }

    private static void dot4(MemorySegment seg, long base, long stride, int cols, PreparedX p, float[] out, int r) {
        float[] xe = p.even();
        float[] xo = p.odd();
        IntVector mask = IntVector.broadcast(I, 0x8fffe000);
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F);
        FloatVector b1 = FloatVector.zero(F);
        FloatVector c0 = FloatVector.zero(F);
        FloatVector c1 = FloatVector.zero(F);
        FloatVector d0 = FloatVector.zero(F);
        FloatVector d1 = FloatVector.zero(F);
        long base1 = base + stride;
        long base2 = base1 + stride;
        long base3 = base2 + stride;
        int pairs = cols / 2;
        int j = 0;
        int bound = pairs - pairs % L;
        for (; j < bound; j += L) {
            FloatVector e = FloatVector.fromArray(F, xe, j);
            FloatVector o = FloatVector.fromArray(F, xo, j);
            long off = (long) j * 4;
            IntVector i0 = IntVector.fromMemorySegment(I, seg, base + off, LE);
            IntVector i1 = IntVector.fromMemorySegment(I, seg, base1 + off, LE);
            IntVector i2 = IntVector.fromMemorySegment(I, seg, base2 + off, LE);
            IntVector i3 = IntVector.fromMemorySegment(I, seg, base3 + off, LE);
            a0 = lo(i0, mask).fma(e, a0);
            a1 = hi(i0, mask).fma(o, a1);
            b0 = lo(i1, mask).fma(e, b0);
            b1 = hi(i1, mask).fma(o, b1);
            c0 = lo(i2, mask).fma(e, c0);
            c1 = hi(i2, mask).fma(o, c1);
            d0 = lo(i3, mask).fma(e, d0);
            d1 = hi(i3, mask).fma(o, d1);
        }
        int c = 2 * j;
        float[] x = p.x();
        out[r] = a0.add(a1).reduceLanes(VectorOperators.ADD) + tail(seg, base, cols, c, x);
        out[r + 1] = b0.add(b1).reduceLanes(VectorOperators.ADD) + tail(seg, base1, cols, c, x);
        out[r + 2] = c0.add(c1).reduceLanes(VectorOperators.ADD) + tail(seg, base2, cols, c, x);
        out[r + 3] = d0.add(d1).reduceLanes(VectorOperators.ADD) + tail(seg, base3, cols, c, x);
    }

    /** Low halves of the int lanes as floats 2^-112 times their value. */
    private static FloatVector lo(IntVector i, IntVector mask) {
        return i.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(mask).reinterpretAsFloats();
    }

    /** High halves of the int lanes as floats 2^-112 times their value. */
    private static FloatVector hi(IntVector i, IntVector mask) {
        return i.lanewise(VectorOperators.ASHR, 3).and(mask).reinterpretAsFloats();
    }

    /** Scalar dot of columns {@code [from, cols)} of the row at {@code base} with unscaled x. */
    private static float tail(MemorySegment seg, long base, int cols, int from, float[] x) {
        float sum = 0f;
        for (int c = from; c < cols; c++) {
            sum += Float.float16ToFloat(seg.get(LE_SHORT, base + (long) c * B)) * x[c];
        }
        return sum;
    }

    /**
     * SPECIAL if row {@code row} holds a half with exponent 31 (Inf or NaN); else TINY if more than 1/8 of its
     * 2 x L-half blocks hold a subnormal half (there the shift trick's float-subnormal operands cost more than the
     * hardware conversion: the crossover measured near 0.5% subnormal halves); else FINITE.
     */
    private byte scan(int row) {
        MemorySegment seg = data();
        int cols = cols();
        long base = (long) row * cols * B;
        int c = 0;
        int blocks = 0;
        int tinyBlocks = 0;
        if (S != null) {
            int step = 2 * L;
            int bound = cols - cols % step;
            for (; c < bound; c += step) {
                boolean tiny = false;
                for (int k = 0; k < step; k += S.length()) {
                    ShortVector h = ShortVector.fromMemorySegment(S, seg, base + (long) (c + k) * B, LE);
                    ShortVector e = h.and((short) 0x7c00);
                    if (e.eq((short) 0x7c00).anyTrue()) {
                        return SPECIAL;
                    }
                    tiny |= e.eq((short) 0).and(h.and((short) 0x3ff).eq((short) 0).not()).anyTrue();
                }
                blocks++;
                tinyBlocks += tiny ? 1 : 0;
            }
        }
        for (; c < cols; c++) {
            if ((seg.get(LE_SHORT, base + (long) c * B) & 0x7c00) == 0x7c00) {
                return SPECIAL;
            }
        }
        return tinyBlocks * 8 > blocks ? TINY : FINITE;
    }

    @Override
    public void copyRow(int row, float[] dst, int dstOffset) {
        if (S == null) {
            super.copyRow(row, dst, dstOffset);
            return;
        }
        checkRowAndVector(row, dst, dstOffset);
        MemorySegment seg = data();
        int cols = cols();
        long base = (long) row * cols * B;
        int c = 0;
        int bound = cols - cols % L;
        for (; c < bound; c += L) {
            ShortVector h = ShortVector.fromMemorySegment(S, seg, base + (long) c * B, LE);
            HalfVectors.halfToFloat(h).intoArray(dst, dstOffset + c);
        }
        for (; c < cols; c++) {
            dst[dstOffset + c] = Float.float16ToFloat(seg.get(LE_SHORT, base + (long) c * B));
        }
    }
}
