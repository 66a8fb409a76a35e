package dev.gearbx.engine.tensor;

import static dev.gearbx.engine.tensor.PackedVectors.F;
import static dev.gearbx.engine.tensor.PackedVectors.L;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * {@link PackedFormat#INT2}: ternary codes {-1, 0, 1}, four per byte in 64-weight blocks. The scale of a group is
 * fitted by {@link #ternaryScale} (mean |w|, then Lloyd steps); each weight is then {@code clamp(round(w/s), -1,
 * 1)}. Error bound per element: {@code |w - q s| <= max(s/2, max|w| - s)} (round-to-nearest below 1.5 s, clamping
 * above).
 */
public final class PackedInt2Matrix extends PackedMatrix {
    /** Lloyd steps after the mean-|w| start (measured: 0 steps = plain absmean, see PackedErrorTest). */
    static final int LLOYD_STEPS = 2;

    PackedInt2Matrix(MemorySegment data, int rows, int cols, int groupSize) {
        super(PackedFormat.INT2, data, rows, cols, groupSize, PackedFormat.INT2.rowBytes(cols));
    }

    @Override
    int code(int row, int col) {
        return crumb(data(), codesOffset + row * rowBytes, col);
    }

    @Override
    void quantizeRow(WeightMatrix source, int row) {
        float[] w = sourceRow(source, row);
        int g0 = groupSize();
        byte[] q = new byte[cols()];
        for (int g = 0; g < groups(); g++) {
            int from = g * g0;
            short h = Float.floatToFloat16(ternaryScale(w, from, from + g0, LLOYD_STEPS));
            if (!Float.isFinite(Float.float16ToFloat(h))) {
                throw new IllegalArgumentException("row " + row + " holds a NaN, infinite or too large weight");
            }
            writeScale(row, g, h);
            float s = Float.float16ToFloat(h);
            for (int i = from; i < from + g0; i++) {
                q[i] = (byte) roundCode(w[i], s, 1);
            }
        }
        byte[] packed = new byte[(int) rowBytes];
        packCrumbs(q, packed, 0, cols());
        MemorySegment.copy(packed, 0, data(), ValueLayout.JAVA_BYTE, codesOffset + row * rowBytes, packed.length);
    }

    /**
     * Ternary scale of {@code w[from .. to)}: mean |w|, then {@code steps} Lloyd iterations (codes for the current
     * scale, then the least-squares scale for those codes: mean |w| over the nonzero codes).
     */
    static float ternaryScale(float[] w, int from, int to, int steps) {
        double sum = 0;
        for (int i = from; i < to; i++) {
            sum += Math.abs(w[i]);
        }
        float s = (float) (sum / (to - from));
        for (int it = 0; it < steps && s > 0f; it++) {
            double num = 0;
            int n = 0;
            for (int i = from; i < to; i++) {
                float a = Math.abs(w[i]);
                if (Math.round(a / s) >= 1) {
                    num += a;
                    n++;
                }
            }
            if (n == 0) {
                break;
            }
            s = (float) (num / n);
        }
        return s;
    }

    @Override
    public float dot(int row, float[] x, int xOffset) {
        checkRowAndVector(row, x, xOffset);
        if (!PackedVectors.available()) {
            return dotScalar(row, x, xOffset);
        }
        return dot(data(), (long) row * groups() * 2, codesOffset + row * rowBytes, cols(), groupSize(), x, xOffset);
    }

    /** Folds every 32 weights (a 64-block may span two groups of 32); the last block may be a half block. */
    static float dot(MemorySegment seg, long scaleOff, long base, int cols, int g0, float[] x, int xo) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int shift = Integer.numberOfTrailingZeros(g0);
        int c = 0;
        int full = cols & ~63;
        for (; c < full; c += 64) {
            long off = base + (c >>> 2);
            FloatVector pa = FloatVector.zero(F);
            FloatVector pb = FloatVector.zero(F);
            for (int sub = 0; sub < 16; sub += L) {
                IntVector v = PackedVectors.bytes(seg, off + sub);
                FloatVector w0 = PackedVectors.toFloat(
                        v.lanewise(VectorOperators.LSHL, 30).lanewise(VectorOperators.ASHR, 30));
                FloatVector w1 = PackedVectors.toFloat(
                        v.lanewise(VectorOperators.LSHL, 28).lanewise(VectorOperators.ASHR, 30));
                FloatVector w2 = PackedVectors.toFloat(
                        v.lanewise(VectorOperators.LSHL, 26).lanewise(VectorOperators.ASHR, 30));
                FloatVector w3 = PackedVectors.toFloat(v.lanewise(VectorOperators.ASHR, 6));
                int xc = xo + c + sub;
                pa = w0.fma(FloatVector.fromArray(F, x, xc), pa);
                pa = w1.fma(FloatVector.fromArray(F, x, xc + 16), pa);
                pb = w2.fma(FloatVector.fromArray(F, x, xc + 32), pb);
                pb = w3.fma(FloatVector.fromArray(F, x, xc + 48), pb);
            }
            float sa = Float.float16ToFloat(seg.get(LE_SHORT, scaleOff + 2L * (c >>> shift)));
            float sb = Float.float16ToFloat(seg.get(LE_SHORT, scaleOff + 2L * ((c + 32) >>> shift)));
            acc0 = pa.fma(FloatVector.broadcast(F, sa), acc0);
            acc1 = pb.fma(FloatVector.broadcast(F, sb), acc1);
        }
        if (c < cols) { // half block: fields 0 and 1 only
            long off = base + (c >>> 2);
            FloatVector pa = FloatVector.zero(F);
            for (int sub = 0; sub < 16; sub += L) {
                IntVector v = PackedVectors.bytes(seg, off + sub);
                FloatVector w0 = PackedVectors.toFloat(
                        v.lanewise(VectorOperators.LSHL, 30).lanewise(VectorOperators.ASHR, 30));
                FloatVector w1 = PackedVectors.toFloat(
                        v.lanewise(VectorOperators.LSHL, 28).lanewise(VectorOperators.ASHR, 30));
                pa = w0.fma(FloatVector.fromArray(F, x, xo + c + sub), pa);
                pa = w1.fma(FloatVector.fromArray(F, x, xo + c + 16 + sub), pa);
            }
            float sa = Float.float16ToFloat(seg.get(LE_SHORT, scaleOff + 2L * (c >>> shift)));
            acc0 = pa.fma(FloatVector.broadcast(F, sa), acc0);
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }
}
