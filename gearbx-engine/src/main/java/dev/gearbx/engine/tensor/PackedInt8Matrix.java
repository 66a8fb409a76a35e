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
        // Flat loop folding every 32 weights with its group's scale (see PackedInt4Matrix.dot).
        int cols = groups * g0;
        int shift = Integer.numberOfTrailingZeros(g0);
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int c = 0;
        for (; c + 64 <= cols; c += 64) {
            FloatVector pa = FloatVector.zero(F);
            FloatVector pb = FloatVector.zero(F);
            for (int sub = 0; sub < 32; sub += L) {
                pa = PackedVectors.toFloat(PackedVectors.bytes(seg, base + c + sub))
                        .fma(FloatVector.fromArray(F, x, xo + c + sub), pa);
                pb = PackedVectors.toFloat(PackedVectors.bytes(seg, base + c + 32 + sub))
                        .fma(FloatVector.fromArray(F, x, xo + c + 32 + sub), pb);
            }
            acc0 = pa.fma(PackedInt4Matrix.scale(seg, scaleOff, c >>> shift), acc0);
            acc1 = pb.fma(PackedInt4Matrix.scale(seg, scaleOff, (c + 32) >>> shift), acc1);
        }
        if (c < cols) {
            FloatVector pa = FloatVector.zero(F);
            for (int sub = 0; sub < 32; sub += L) {
                pa = PackedVectors.toFloat(PackedVectors.bytes(seg, base + c + sub))
                        .fma(FloatVector.fromArray(F, x, xo + c + sub), pa);
            }
            acc0 = pa.fma(PackedInt4Matrix.scale(seg, scaleOff, c >>> shift), acc0);
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }
}
