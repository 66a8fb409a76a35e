package dev.gearbx.engine.tensor;

import static dev.gearbx.engine.tensor.PackedVectors.F;
import static dev.gearbx.engine.tensor.PackedVectors.L;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/** {@link PackedFormat#INT8}: one signed byte per weight in column order, codes in [-127, 127]. */
public final class PackedInt8Matrix extends PackedMatrix {
    PackedInt8Matrix(MemorySegment data, int rows, int cols, int groupSize) {
        super(PackedFormat.INT8, data, rows, cols, groupSize, cols);
    }

    @Override
    int code(int row, int col) {
        return data().get(ValueLayout.JAVA_BYTE, codesOffset + row * rowBytes + col);
    }

    @Override
    void quantizeRow(WeightMatrix source, int row) {
        float[] w = sourceRow(source, row);
        byte[] q = new byte[cols()];
        symmetricCodes(w, q, row, 127);
        MemorySegment.copy(q, 0, data(), ValueLayout.JAVA_BYTE, codesOffset + row * rowBytes, cols());
    }

    @Override
    public float dot(int row, float[] x, int xOffset) {
        checkRowAndVector(row, x, xOffset);
        if (!PackedVectors.available()) {
            return dotScalar(row, x, xOffset);
        }
        return dot(data(), (long) row * groups() * 2, codesOffset + row * rowBytes, groups(), groupSize(), x, xOffset);
    }

    static float dot(MemorySegment seg, long scaleOff, long base, int groups, int g0, float[] x, int xo) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int c = 0;
        for (int g = 0; g < groups; g++) {
            FloatVector ga = FloatVector.zero(F);
            FloatVector gb = FloatVector.zero(F);
            for (int end = c + g0; c < end; c += 2 * L) {
                FloatVector w0 = PackedVectors.toFloat(PackedVectors.bytes(seg, base + c));
                FloatVector w1 = PackedVectors.toFloat(PackedVectors.bytes(seg, base + c + L));
                ga = w0.fma(FloatVector.fromArray(F, x, xo + c), ga);
                gb = w1.fma(FloatVector.fromArray(F, x, xo + c + L), gb);
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
