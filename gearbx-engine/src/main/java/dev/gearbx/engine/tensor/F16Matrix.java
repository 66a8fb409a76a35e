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
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * IEEE binary16 weights, little-endian, read in place and widened to float on the fly.
 *
 * <p>The vector dot skips the Inf/NaN fix-up of {@link HalfVectors#halfToFloat} (it costs ~40% of the loop): each
 * row is scanned once for exponent-31 halves on first use, and the rare rows that hold any go the scalar way.
 */
public final class F16Matrix extends WeightMatrix {
    private static final ValueLayout.OfShort LE_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final int B = Short.BYTES;
    private static final byte UNKNOWN = 0;
    private static final byte FINITE = 1;
    private static final byte SPECIAL = 2;

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
        byte state = rowState[row];
        if (state == UNKNOWN) {
            state = hasInfOrNaN(row) ? SPECIAL : FINITE;
            rowState[row] = state;
        }
        if (state == SPECIAL || S == null) {
            return dotScalar(row, x, xOffset);
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

    /** Whether row {@code row} holds a half with exponent 31 (Inf or NaN). */
    private boolean hasInfOrNaN(int row) {
        MemorySegment seg = data();
        int cols = cols();
        long base = (long) row * cols * B;
        int c = 0;
        if (S != null) {
            int bound = cols - cols % S.length();
            for (; c < bound; c += S.length()) {
                ShortVector h = ShortVector.fromMemorySegment(S, seg, base + (long) c * B, LE);
                if (h.and((short) 0x7c00).eq((short) 0x7c00).anyTrue()) {
                    return true;
                }
            }
        }
        for (; c < cols; c++) {
            if ((seg.get(LE_SHORT, base + (long) c * B) & 0x7c00) == 0x7c00) {
                return true;
            }
        }
        return false;
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
