package dev.gearbx.engine.tensor;

import static dev.gearbx.engine.tensor.PackedVectors.F;
import static dev.gearbx.engine.tensor.PackedVectors.L;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/** {@link PackedFormat#INT4}: two's-complement nibbles in 32-weight blocks, codes in [-7, 7], scale max|w|/7. */
public final class PackedInt4Matrix extends PackedMatrix {
    PackedInt4Matrix(MemorySegment data, int rows, int cols, int groupSize) {
        super(PackedFormat.INT4, data, rows, cols, groupSize, cols / 2);
    }

    @Override
    int code(int row, int col) {
        return nibble(data(), codesOffset + row * rowBytes, col);
    }

    @Override
    void quantizeRow(WeightMatrix source, int row) {
        float[] w = sourceRow(source, row);
        byte[] q = new byte[cols()];
        symmetricCodes(w, q, row, 7);
        byte[] packed = new byte[(int) rowBytes];
        packNibbles(q, packed, 0, cols());
        MemorySegment.copy(packed, 0, data(), ValueLayout.JAVA_BYTE, codesOffset + row * rowBytes, packed.length);
    }

    @Override
    public float dot(int row, float[] x, int xOffset) {
        checkRowAndVector(row, x, xOffset);
        if (!PackedVectors.available()) {
            return dotScalar(row, x, xOffset);
        }
        return dot(data(), (long) row * groups() * 2, codesOffset + row * rowBytes, groups(), groupSize(), x, xOffset);
    }

    /**
     * Dot of one INT4-style row (scales at {@code scaleOff}, codes at {@code base}) with x; shared with the nested
     * LOW view, which multiplies the result by 16.
     */
    static float dot(MemorySegment seg, long scaleOff, long base, int groups, int g0, float[] x, int xo) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int c = 0;
        for (int g = 0; g < groups; g++) {
            FloatVector ga = FloatVector.zero(F);
            FloatVector gb = FloatVector.zero(F);
            for (int end = c + g0; c < end; c += 32) {
                long off = base + (c >>> 1);
                for (int sub = 0; sub < 16; sub += L) {
                    IntVector v = PackedVectors.bytes(seg, off + sub);
                    FloatVector w0 = PackedVectors.toFloat(
                            v.lanewise(VectorOperators.LSHL, 28).lanewise(VectorOperators.ASHR, 28));
                    FloatVector w1 = PackedVectors.toFloat(v.lanewise(VectorOperators.ASHR, 4));
                    ga = w0.fma(FloatVector.fromArray(F, x, xo + c + sub), ga);
                    gb = w1.fma(FloatVector.fromArray(F, x, xo + c + 16 + sub), gb);
                }
            }
            FloatVector s = FloatVector.broadcast(F, Float.float16ToFloat(seg.get(LE_SHORT, scaleOff + 2L * g)));
            if ((g & 1) == 0) {
                acc0 = ga.add(gb).fma(s, acc0);
            } else {
                acc1 = ga.add(gb).fma(s, acc1);
            }
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }
}
