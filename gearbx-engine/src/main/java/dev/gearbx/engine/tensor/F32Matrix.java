package dev.gearbx.engine.tensor;

import dev.gearbx.engine.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** F32 weights, little-endian, read in place. */
public final class F32Matrix extends WeightMatrix {
    private static final ValueLayout.OfFloat LE_FLOAT =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    F32Matrix(MemorySegment data, int rows, int cols) {
        super(data, rows, cols);
    }

    @Override
    public GgmlType type() {
        return GgmlType.F32;
    }

    @Override
    public float get(int row, int col) {
        checkElement(row, col);
        return data().get(LE_FLOAT, ((long) row * cols() + col) * Float.BYTES);
    }

    @Override
    public float dotScalar(int row, float[] x, int xOffset) {
        checkRowAndVector(row, x, xOffset);
        MemorySegment seg = data();
        int cols = cols();
        long base = (long) row * cols * Float.BYTES;
        float sum = 0f;
        for (int c = 0; c < cols; c++) {
            sum += seg.get(LE_FLOAT, base + (long) c * Float.BYTES) * x[xOffset + c];
        }
        return sum;
    }

    @Override
    public float dot(int row, float[] x, int xOffset) {
        checkRowAndVector(row, x, xOffset);
        MemorySegment seg = data();
        int cols = cols();
        long base = (long) row * cols * Float.BYTES;
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        FloatVector acc2 = FloatVector.zero(F);
        FloatVector acc3 = FloatVector.zero(F);
        int c = 0;
        // Four independent accumulators hide the FMA latency; loads are written out in the loop because C2 may
        // refuse to inline a helper here, and a non-inlined Vector API call boxes every vector.
        int bound4 = cols - cols % (4 * L);
        for (; c < bound4; c += 4 * L) {
            long off = base + (long) c * Float.BYTES;
            int xo = xOffset + c;
            FloatVector w0 = FloatVector.fromMemorySegment(F, seg, off, LE);
            FloatVector w1 = FloatVector.fromMemorySegment(F, seg, off + (long) L * Float.BYTES, LE);
            FloatVector w2 = FloatVector.fromMemorySegment(F, seg, off + 2L * L * Float.BYTES, LE);
            FloatVector w3 = FloatVector.fromMemorySegment(F, seg, off + 3L * L * Float.BYTES, LE);
            acc0 = w0.fma(FloatVector.fromArray(F, x, xo), acc0);
            acc1 = w1.fma(FloatVector.fromArray(F, x, xo + L), acc1);
            acc2 = w2.fma(FloatVector.fromArray(F, x, xo + 2 * L), acc2);
            acc3 = w3.fma(FloatVector.fromArray(F, x, xo + 3 * L), acc3);
        }
        int bound1 = cols - cols % L;
        for (; c < bound1; c += L) {
            FloatVector w0 = FloatVector.fromMemorySegment(F, seg, base + (long) c * Float.BYTES, LE);
            acc0 = w0.fma(FloatVector.fromArray(F, x, xOffset + c), acc0);
        }
        float sum = acc0.add(acc1).add(acc2.add(acc3)).reduceLanes(VectorOperators.ADD);
        for (; c < cols; c++) {
            sum += seg.get(LE_FLOAT, base + (long) c * Float.BYTES) * x[xOffset + c];
        }
        return sum;
    }

    @Override
    public void copyRow(int row, float[] dst, int dstOffset) {
        checkRowAndVector(row, dst, dstOffset);
        MemorySegment.copy(data(), LE_FLOAT, (long) row * cols() * Float.BYTES, dst, dstOffset, cols());
    }
}
