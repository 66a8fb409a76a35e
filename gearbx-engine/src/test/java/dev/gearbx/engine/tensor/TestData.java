package dev.gearbx.engine.tensor;

import dev.gearbx.engine.gguf.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

/** Random little-endian weight segments and vectors for the tensor tests (auto arena: any thread may read). */
final class TestData {
    static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final GgmlType[] TYPES = {GgmlType.F32, GgmlType.F16, GgmlType.BF16};
    static final int[] SIZES = {1, 2, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255, 256, 1000, 4097};

    private TestData() {}

    static WeightMatrix matrix(GgmlType type, int rows, int cols, long seed) {
        long n = (long) rows * cols;
        MemorySegment seg = Arena.ofAuto().allocate(type.byteSize(n), 64);
        SplittableRandom rnd = new SplittableRandom(seed);
        for (long i = 0; i < n; i++) {
            float v = (float) rnd.nextDouble(-1, 1);
            switch (type) {
                case F32 -> seg.setAtIndex(LE_FLOAT, i, v);
                case F16 -> seg.setAtIndex(LE_SHORT, i, Float.floatToFloat16(v));
                case BF16 -> seg.setAtIndex(LE_SHORT, i, (short) (Float.floatToRawIntBits(v) >>> 16));
                default -> throw new IllegalArgumentException(type.toString());
            }
        }
        return WeightMatrix.of(type, seg, rows, cols);
    }

    static float[] vector(int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextDouble(-2, 2);
        }
        return v;
    }

    /** Sum of |w[row][c] * x[xOffset + c]|: the scale for dot-product tolerances. */
    static double absSum(WeightMatrix w, int row, float[] x, int xOffset) {
        double s = 0;
        for (int c = 0; c < w.cols(); c++) {
            s += Math.abs((double) w.get(row, c) * x[xOffset + c]);
        }
        return s;
    }

    /** Row dot in double precision. */
    static double exactDot(WeightMatrix w, int row, float[] x, int xOffset) {
        double s = 0;
        for (int c = 0; c < w.cols(); c++) {
            s += (double) w.get(row, c) * x[xOffset + c];
        }
        return s;
    }
}
