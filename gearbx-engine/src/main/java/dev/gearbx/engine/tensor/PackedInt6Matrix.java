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

    private static FloatVector field(IntVector nib, int nibShift, IntVector top, int topShl) {
        IntVector low = nib.lanewise(VectorOperators.LSHR, nibShift).and(0xF);
        // top field at bits 31..30 after the left shift; arithmetic >> 26 gives 16 * signed top (+ lower bits)
        IntVector hi = top.lanewise(VectorOperators.LSHL, topShl).lanewise(VectorOperators.ASHR, 26).and(-16);
        return PackedVectors.toFloat(hi.or(low));
    }

    /** Folds every 32 weights (a 64-block may span two groups of 32); the last block may be a half block. */
    static float dot(MemorySegment seg, long scaleOff, long base, int cols, int g0, float[] x, int xo) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int shift = Integer.numberOfTrailingZeros(g0);
        long topBase = base + cols / 2;
        int c = 0;
        for (; c < cols; c += 64) {
            boolean half = c + 64 > cols;
            FloatVector pa = FloatVector.zero(F);
            FloatVector pb = FloatVector.zero(F);
            for (int sub = 0; sub < 16; sub += L) {
                IntVector t = PackedVectors.bytes(seg, topBase + (c >>> 2) + sub);
                IntVector n0 = PackedVectors.bytes(seg, base + (c >>> 1) + sub);
                int xc = xo + c + sub;
                pa = field(n0, 0, t, 30).fma(FloatVector.fromArray(F, x, xc), pa);
                pa = field(n0, 4, t, 28).fma(FloatVector.fromArray(F, x, xc + 16), pa);
                if (!half) {
                    IntVector n1 = PackedVectors.bytes(seg, base + (c >>> 1) + 16 + sub);
                    pb = field(n1, 0, t, 26).fma(FloatVector.fromArray(F, x, xc + 32), pb);
                    pb = field(n1, 4, t, 24).fma(FloatVector.fromArray(F, x, xc + 48), pb);
                }
            }
            float sa = Float.float16ToFloat(seg.get(LE_SHORT, scaleOff + 2L * (c >>> shift)));
            acc0 = pa.fma(FloatVector.broadcast(F, sa), acc0);
            if (!half) {
                float sb = Float.float16ToFloat(seg.get(LE_SHORT, scaleOff + 2L * ((c + 32) >>> shift)));
                acc1 = pb.fma(FloatVector.broadcast(F, sb), acc1);
            }
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }
}
