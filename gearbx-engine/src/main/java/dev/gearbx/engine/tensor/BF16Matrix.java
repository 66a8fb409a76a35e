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

/** bfloat16 weights, little-endian, read in place and widened to float on the fly (exactly). */
public final class BF16Matrix extends WeightMatrix {
    private static final ValueLayout.OfShort LE_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final int B = Short.BYTES;

    BF16Matrix(MemorySegment data, int rows, int cols) {
        super(data, rows, cols);
    }

    @Override
    public GgmlType type() {
        return GgmlType.BF16;
    }

    /** bfloat16 bits to float: the bf16 is the top half of the float's bits. */
    static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat(bits << 16);
    }

    @Override
    public float get(int row, int col) {
        checkElement(row, col);
        return bf16ToFloat(data().get(LE_SHORT, ((long) row * cols() + col) * B));
    }

    @Override
    public float dotScalar(int row, float[] x, int xOffset) {
        checkRowAndVector(row, x, xOffset);
        MemorySegment seg = data();
        int cols = cols();
        long base = (long) row * cols * B;
        float sum = 0f;
        for (int c = 0; c < cols; c++) {
            sum += bf16ToFloat(seg.get(LE_SHORT, base + (long) c * B)) * x[xOffset + c];
        }
        return sum;
    }

    @Override
    public float dot(int row, float[] x, int xOffset) {
        if (S == null) {
            return dotScalar(row, x, xOffset);
        }
        checkRowAndVector(row, x, xOffset);
        MemorySegment seg = data();
        int cols = cols();
        long base = (long) row * cols * B;
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        FloatVector acc2 = FloatVector.zero(F);
        FloatVector acc3 = FloatVector.zero(F);
        int c = 0;
        // Widen each bf16 to int and shift it into the top half: that is the float. Written out in the loop (no
        // helper) so C2 never leaves a Vector API call un-inlined; four accumulators hide the FMA latency.
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
            acc0 = h0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                    .fma(FloatVector.fromArray(F, x, xo), acc0);
            acc1 = h1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                    .fma(FloatVector.fromArray(F, x, xo + L), acc1);
            acc2 = h2.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                    .fma(FloatVector.fromArray(F, x, xo + 2 * L), acc2);
            acc3 = h3.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                    .fma(FloatVector.fromArray(F, x, xo + 3 * L), acc3);
        }
        int bound1 = cols - cols % L;
        for (; c < bound1; c += L) {
            IntVector h0 = (IntVector) ShortVector.fromMemorySegment(S, seg, base + (long) c * B, LE)
                    .convertShape(VectorOperators.S2I, I, 0);
            acc0 = h0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                    .fma(FloatVector.fromArray(F, x, xOffset + c), acc0);
        }
        float sum = acc0.add(acc1).add(acc2.add(acc3)).reduceLanes(VectorOperators.ADD);
        for (; c < cols; c++) {
            sum += bf16ToFloat(seg.get(LE_SHORT, base + (long) c * B)) * x[xOffset + c];
        }
        return sum;
    }

    @Override
    public void copyRow(int row, float[] dst, int dstOffset) {
        checkRowAndVector(row, dst, dstOffset);
        MemorySegment seg = data();
        int cols = cols();
        long base = (long) row * cols * B;
        for (int c = 0; c < cols; c++) {
            dst[dstOffset + c] = bf16ToFloat(seg.get(LE_SHORT, base + (long) c * B));
        }
    }
}
