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
        // One flat loop over 32-weight blocks (two per iteration), each folded with its group's scale: a nested
        // group/block loop measured ~1.5x slower at G=32 (C2 schedules the short inner loop badly).
        int cols = groups * g0;
        int shift = Integer.numberOfTrailingZeros(g0);
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int c = 0;
        for (; c + 64 <= cols; c += 64) {
            long off = base + (c >>> 1);
            FloatVector pa = FloatVector.zero(F);
            FloatVector pb = FloatVector.zero(F);
            for (int sub = 0; sub < 16; sub += L) {
                IntVector v = PackedVectors.bytes(seg, off + sub);
                IntVector u = PackedVectors.bytes(seg, off + 16 + sub);
                int xc = xo + c + sub;
                pa = lowNibbles(v).fma(FloatVector.fromArray(F, x, xc), pa);
                pa = highNibbles(v).fma(FloatVector.fromArray(F, x, xc + 16), pa);
                pb = lowNibbles(u).fma(FloatVector.fromArray(F, x, xc + 32), pb);
                pb = highNibbles(u).fma(FloatVector.fromArray(F, x, xc + 48), pb);
            }
            acc0 = pa.fma(scale(seg, scaleOff, c >>> shift), acc0);
            acc1 = pb.fma(scale(seg, scaleOff, (c + 32) >>> shift), acc1);
        }
        if (c < cols) {
            long off = base + (c >>> 1);
            FloatVector pa = FloatVector.zero(F);
            for (int sub = 0; sub < 16; sub += L) {
                IntVector v = PackedVectors.bytes(seg, off + sub);
                int xc = xo + c + sub;
                pa = lowNibbles(v).fma(FloatVector.fromArray(F, x, xc), pa);
                pa = highNibbles(v).fma(FloatVector.fromArray(F, x, xc + 16), pa);
            }
            acc0 = pa.fma(scale(seg, scaleOff, c >>> shift), acc0);
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }

    static FloatVector lowNibbles(IntVector v) {
        return PackedVectors.toFloat(v.lanewise(VectorOperators.LSHL, 28).lanewise(VectorOperators.ASHR, 28));
    }

    static FloatVector highNibbles(IntVector v) {
        return PackedVectors.toFloat(v.lanewise(VectorOperators.ASHR, 4));
    }

    static FloatVector scale(MemorySegment seg, long scaleOff, int g) {
        return FloatVector.broadcast(F, Float.float16ToFloat(seg.get(LE_SHORT, scaleOff + 2L * g)));
    }
}
