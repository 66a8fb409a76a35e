package dev.gearbx.engine.tensor;

import static dev.gearbx.engine.tensor.PackedVectors.F;
import static dev.gearbx.engine.tensor.PackedVectors.L;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * {@link PackedFormat#INT6}: codes in [-31, 31], scale max|w|/31. A row is its low 4 bits as an INT4-style nibble
 * part ({@code cols / 2} bytes) followed by the signed top 2 bits as an INT2-style part; code = 16 top + low.
 */
public final class PackedInt6Matrix extends PackedMatrix {
    PackedInt6Matrix(MemorySegment data, int rows, int cols, int groupSize) {
        super(PackedFormat.INT6, data, rows, cols, groupSize, PackedFormat.INT6.rowBytes(cols));
    }

    @Override
    int code(int row, int col) {
        long rowBase = codesOffset + row * rowBytes;
        int low = nibble(data(), rowBase, col) & 0xF;
        return crumb(data(), rowBase + cols() / 2, col) * 16 + low;
    }

    @Override
    void quantizeRow(WeightMatrix source, int row) {
        float[] w = sourceRow(source, row);
        byte[] q = new byte[cols()];
        symmetricCodes(w, q, row, 31);
        byte[] packed = new byte[(int) rowBytes];
        packNibbles(q, packed, 0, cols()); // low 4 bits
        byte[] top = new byte[cols()];
        for (int i = 0; i < top.length; i++) {
            top[i] = (byte) (q[i] >> 4);
        }
        packCrumbs(top, packed, cols() / 2, cols());
        MemorySegment.copy(packed, 0, data(), ValueLayout.JAVA_BYTE, codesOffset + row * rowBytes, packed.length);
    }

    @Override
    public float dot(int row, float[] x, int xOffset) {
        checkRowAndVector(row, x, xOffset);
        if (!PackedVectors.available()) {
            return dotScalar(row, x, xOffset);
        }
        return dot(data(), (long) row * groups() * 2, codesOffset + row * rowBytes, cols(), groupSize(), x, xOffset);
    }

    // code = 16 * signed top + unsigned low nibble; each top field is moved to bits 31..30, then an arithmetic
    // shift by 26 and a mask give 16 * signed top. Written per field with constant shifts (a shared helper with
    // shift arguments measured several times slower).
    private static FloatVector f0(IntVector nib, IntVector top) {
        return PackedVectors.toFloat(top.lanewise(VectorOperators.LSHL, 30).lanewise(VectorOperators.ASHR, 26)
                .or(nib.and(0xF)));
    }

    private static FloatVector f1(IntVector nib, IntVector top) {
        return PackedVectors.toFloat(top.lanewise(VectorOperators.LSHL, 28).lanewise(VectorOperators.ASHR, 26)
                .and(-16).or(nib.lanewise(VectorOperators.LSHR, 4).and(0xF)));
    }

    private static FloatVector f2(IntVector nib, IntVector top) {
        return PackedVectors.toFloat(top.lanewise(VectorOperators.LSHL, 26).lanewise(VectorOperators.ASHR, 26)
                .and(-16).or(nib.and(0xF)));
    }

    private static FloatVector f3(IntVector nib, IntVector top) {
        return PackedVectors.toFloat(top.lanewise(VectorOperators.ASHR, 2).and(-16)
                .or(nib.lanewise(VectorOperators.LSHR, 4).and(0xF)));
    }

    /** Folds every 32 weights (a 64-block may span two groups of 32); the last block may be a half block. */
    static float dot(MemorySegment seg, long scaleOff, long base, int cols, int g0, float[] x, int xo) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int shift = Integer.numberOfTrailingZeros(g0);
        long topBase = base + cols / 2;
        int c = 0;
        int full = cols & ~63;
        for (; c < full; c += 64) {
            FloatVector pa = FloatVector.zero(F);
            FloatVector pb = FloatVector.zero(F);
            for (int sub = 0; sub < 16; sub += L) {
                IntVector t = PackedVectors.bytes(seg, topBase + (c >>> 2) + sub);
                IntVector n0 = PackedVectors.bytes(seg, base + (c >>> 1) + sub);
                IntVector n1 = PackedVectors.bytes(seg, base + (c >>> 1) + 16 + sub);
                int xc = xo + c + sub;
                pa = f0(n0, t).fma(FloatVector.fromArray(F, x, xc), pa);
                pa = f1(n0, t).fma(FloatVector.fromArray(F, x, xc + 16), pa);
                pb = f2(n1, t).fma(FloatVector.fromArray(F, x, xc + 32), pb);
                pb = f3(n1, t).fma(FloatVector.fromArray(F, x, xc + 48), pb);
            }
            float sa = Float.float16ToFloat(seg.get(LE_SHORT, scaleOff + 2L * (c >>> shift)));
            float sb = Float.float16ToFloat(seg.get(LE_SHORT, scaleOff + 2L * ((c + 32) >>> shift)));
            acc0 = pa.fma(FloatVector.broadcast(F, sa), acc0);
            acc1 = pb.fma(FloatVector.broadcast(F, sb), acc1);
        }
        if (c < cols) { // half block: fields 0 and 1 only
            FloatVector pa = FloatVector.zero(F);
            for (int sub = 0; sub < 16; sub += L) {
                IntVector t = PackedVectors.bytes(seg, topBase + (c >>> 2) + sub);
                IntVector n0 = PackedVectors.bytes(seg, base + (c >>> 1) + sub);
                int xc = xo + c + sub;
                pa = f0(n0, t).fma(FloatVector.fromArray(F, x, xc), pa);
                pa = f1(n0, t).fma(FloatVector.fromArray(F, x, xc + 16), pa);
            }
            float sa = Float.float16ToFloat(seg.get(LE_SHORT, scaleOff + 2L * (c >>> shift)));
            acc0 = pa.fma(FloatVector.broadcast(F, sa), acc0);
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }
}
