package dev.gearbx.engine.tensor;

import static dev.gearbx.engine.tensor.QuantVectors.B16;
import static dev.gearbx.engine.tensor.QuantVectors.BS;
import static dev.gearbx.engine.tensor.QuantVectors.F;
import static dev.gearbx.engine.tensor.QuantVectors.I;
import static dev.gearbx.engine.tensor.QuantVectors.L;
import static dev.gearbx.engine.tensor.QuantVectors.LE;
import static dev.gearbx.engine.tensor.QuantVectors.LE_SHORT;
import static dev.gearbx.engine.tensor.QuantVectors.PARTS;
import static dev.gearbx.engine.tensor.QuantVectors.QK;
import static dev.gearbx.engine.tensor.QuantVectors.S;

import dev.gearbx.engine.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * ggml Q8_0, read in place: blocks of 32 elements of 34 bytes, an IEEE half scale {@code d} then 32 int8 {@code q};
 * element = {@code d * q}. Rows are whole blocks ({@code cols % 32 == 0}).
 *
 * <p>{@link #dot} dequantizes in registers (bytes widened to float, FMA with x, one FMA per block with d).
 * {@link #dotRows} uses the same dequantization by default, four rows per pass on 512-bit vectors (then two, then
 * one), or, with int8 activations (see
 * {@link QuantVectors#INT8_DEFAULT}), quantizes x to int8 blocks once per call and does integer block dots.
 */
public final class Q8_0Matrix extends WeightMatrix {
    static final int BLOCK_BYTES = 34;

    private final int blocksPerRow;
    private final boolean int8Activations;

    Q8_0Matrix(MemorySegment data, int rows, int cols) {
        this(data, rows, cols, QuantVectors.INT8_DEFAULT);
    }

    Q8_0Matrix(MemorySegment data, int rows, int cols, boolean int8Activations) {
        super(data, rows, cols);
        if (cols % QK != 0) {
            throw new IllegalArgumentException("Q8_0 matrix cols=" + cols + " is not a multiple of the block size 32");
        }
        this.blocksPerRow = cols / QK;
        this.int8Activations = int8Activations && QuantVectors.INT_OK;
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q8_0;
    }

    private long blockOffset(int row, int block) {
        return ((long) row * blocksPerRow + block) * BLOCK_BYTES;
    }

    @Override
    public float get(int row, int col) {
        checkElement(row, col);
        long off = blockOffset(row, col / QK);
        return QuantVectors.half(data(), off) * data().get(ValueLayout.JAVA_BYTE, off + 2 + col % QK);
    }

    @Override
    public float dotScalar(int row, float[] x, int xOffset) {
        checkRowAndVector(row, x, xOffset);
        MemorySegment seg = data();
        float sum = 0f;
        for (int b = 0; b < blocksPerRow; b++) {
            long off = blockOffset(row, b);
            int xo = xOffset + b * QK;
            float s = 0f;
            for (int j = 0; j < QK; j++) {
                s += seg.get(ValueLayout.JAVA_BYTE, off + 2 + j) * x[xo + j];
            }
            sum += QuantVectors.half(seg, off) * s;
        }
        return sum;
    }

    @Override
    public float dot(int row, float[] x, int xOffset) {
        checkRowAndVector(row, x, xOffset);
        if (!QuantVectors.FLOAT_OK) {
            return dotScalar(row, x, xOffset);
        }
        return dotFloat(data(), blockOffset(row, 0), blocksPerRow, x, xOffset);
    }

    /** Weights widened to float in registers; two block accumulators (even/odd blocks) hide the FMA latency. */
    static float dotFloat(MemorySegment seg, long base, int blocks, float[] x, int xOffset) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int b = 0;
        for (; b + 1 < blocks; b += 2) {
            long off = base + (long) b * BLOCK_BYTES;
            acc0 = block(seg, off, x, xOffset + b * QK).fma(FloatVector.broadcast(F, QuantVectors.half(seg, off)), acc0);
            long off1 = off + BLOCK_BYTES;
            acc1 = block(seg, off1, x, xOffset + (b + 1) * QK).fma(FloatVector.broadcast(F, QuantVectors.half(seg, off1)), acc1);
        }
        if (b < blocks) {
            long off = base + (long) b * BLOCK_BYTES;
            acc0 = block(seg, off, x, xOffset + b * QK).fma(FloatVector.broadcast(F, QuantVectors.half(seg, off)), acc0);
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }

    /** Σ q_j x_j of one block, lane-wise (not yet scaled by d). */
    private static FloatVector block(MemorySegment seg, long off, float[] x, int xo) {
        ByteVector q0 = ByteVector.fromMemorySegment(B16, seg, off + 2, LE);
        ByteVector q1 = ByteVector.fromMemorySegment(B16, seg, off + 18, LE);
        FloatVector s = ((FloatVector) q0.convertShape(VectorOperators.B2F, F, 0)).mul(FloatVector.fromArray(F, x, xo));
        for (int p = 1; p < PARTS; p++) {
            s = ((FloatVector) q0.convertShape(VectorOperators.B2F, F, p)).fma(FloatVector.fromArray(F, x, xo + p * L), s);
        }
        for (int p = 0; p < PARTS; p++) {
            s = ((FloatVector) q1.convertShape(VectorOperators.B2F, F, p))
                    .fma(FloatVector.fromArray(F, x, xo + 16 + p * L), s);
        }
        return s;
    }

    /** Bench/test hook: the float dotRows goes row by row through {@link #dot} (the path before the 4-row kernel). */
    boolean rowByRow;

    @Override
    void dotRows(float[] x, int from, int to, float[] out) {
        if (!int8Activations) {
            if (!QuantVectors.ROWS4_OK || rowByRow) {
                super.dotRows(x, from, to, out);
                return;
            }
            Objects.checkFromToIndex(from, to, rows());
            Objects.checkFromIndexSize(0, cols(), x.length);
            MemorySegment seg = data();
            long rowBytes = (long) blocksPerRow * BLOCK_BYTES;
            // the four rows of a pass are a quarter of the range apart, so each of the four weight streams runs on
            // contiguously into its next row (adjacent rows made four short streams: slower than one row at a time
            // at 2048 cols from DRAM)
            int quarter = (to - from) / 4;
            for (int i = 0; i < quarter; i++) {
                int r = from + i;
                dot4(seg, blockOffset(r, 0), quarter * rowBytes, blocksPerRow, x, out, r, quarter);
            }
            int r = from + 4 * quarter;
            for (; r + 2 <= to; r += 2) {
                dot2(seg, blockOffset(r, 0), rowBytes, blocksPerRow, x, out, r);
            }
            if (r < to) {
                out[r] = dotFloat(seg, blockOffset(r, 0), blocksPerRow, x, 0);
            }
            return;
        }
        QuantVectors.Q8Activations a = QuantVectors.quantizeActivations(x, cols());
        MemorySegment seg = data();
        for (int r = from; r < to; r++) {
            out[r] = dotInt8(seg, blockOffset(r, 0), blocksPerRow, a.q, a.d);
        }
    }

    /**
     * Rows {@code r + i * step}, i = 0..3 (row i at {@code base + i * rowBytes}) against x, 512-bit only: per block the two x vectors are
     * loaded once for the four rows; per row the two 16-byte halves widen to float, FMA with x, and one FMA with the
     * broadcast scale adds the block into the row's accumulator. Written out (no vector helpers) so C2 keeps
     * everything in registers.
     */
    private static void dot4(MemorySegment seg, long base, long rowBytes, int blocks, float[] x, float[] out, int r,
            int step) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            int xo = b * QK;
            FloatVector x0 = FloatVector.fromArray(F, x, xo);
            FloatVector x1 = FloatVector.fromArray(F, x, xo + 16);
            long q = base + (long) b * BLOCK_BYTES;
            FloatVector s = ((FloatVector) ByteVector.fromMemorySegment(B16, seg, q + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(x0);
            s = ((FloatVector) ByteVector.fromMemorySegment(B16, seg, q + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x1, s);
            a0 = s.fma(FloatVector.broadcast(F, Float.float16ToFloat(seg.get(LE_SHORT, q))), a0);
            q += rowBytes;
            s = ((FloatVector) ByteVector.fromMemorySegment(B16, seg, q + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(x0);
            s = ((FloatVector) ByteVector.fromMemorySegment(B16, seg, q + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x1, s);
            a1 = s.fma(FloatVector.broadcast(F, Float.float16ToFloat(seg.get(LE_SHORT, q))), a1);
            q += rowBytes;
            s = ((FloatVector) ByteVector.fromMemorySegment(B16, seg, q + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(x0);
            s = ((FloatVector) ByteVector.fromMemorySegment(B16, seg, q + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x1, s);
            a2 = s.fma(FloatVector.broadcast(F, Float.float16ToFloat(seg.get(LE_SHORT, q))), a2);
            q += rowBytes;
            s = ((FloatVector) ByteVector.fromMemorySegment(B16, seg, q + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(x0);
            s = ((FloatVector) ByteVector.fromMemorySegment(B16, seg, q + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x1, s);
            a3 = s.fma(FloatVector.broadcast(F, Float.float16ToFloat(seg.get(LE_SHORT, q))), a3);
        }
        out[r] = a0.reduceLanes(VectorOperators.ADD);
        out[r + step] = a1.reduceLanes(VectorOperators.ADD);
        out[r + 2 * step] = a2.reduceLanes(VectorOperators.ADD);
        out[r + 3 * step] = a3.reduceLanes(VectorOperators.ADD);
    }

    /** {@link #dot4} for two rows. */
    private static void dot2(MemorySegment seg, long base, long rowBytes, int blocks, float[] x, float[] out, int r) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            int xo = b * QK;
            FloatVector x0 = FloatVector.fromArray(F, x, xo);
            FloatVector x1 = FloatVector.fromArray(F, x, xo + 16);
            long q = base + (long) b * BLOCK_BYTES;
            FloatVector s = ((FloatVector) ByteVector.fromMemorySegment(B16, seg, q + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(x0);
            s = ((FloatVector) ByteVector.fromMemorySegment(B16, seg, q + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x1, s);
            a0 = s.fma(FloatVector.broadcast(F, Float.float16ToFloat(seg.get(LE_SHORT, q))), a0);
            q += rowBytes;
            s = ((FloatVector) ByteVector.fromMemorySegment(B16, seg, q + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(x0);
            s = ((FloatVector) ByteVector.fromMemorySegment(B16, seg, q + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x1, s);
            a1 = s.fma(FloatVector.broadcast(F, Float.float16ToFloat(seg.get(LE_SHORT, q))), a1);
        }
        out[r] = a0.reduceLanes(VectorOperators.ADD);
        out[r + 1] = a1.reduceLanes(VectorOperators.ADD);
    }

    /** Integer block dots with int8 activations {@code xq} (widened to shorts) and their block scales {@code xd}. */
    static float dotInt8(MemorySegment seg, long base, int blocks, short[] xq, float[] xd) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long off = base + (long) b * BLOCK_BYTES;
            int xo = b * QK;
            IntVector s = IntVector.zero(I);
            for (int c = 0; c < QK; c += 2 * L) {
                ShortVector w = (ShortVector) ByteVector.fromMemorySegment(BS, seg, off + 2 + c, LE)
                        .convertShape(VectorOperators.B2S, S, 0);
                s = s.add(QuantVectors.pairSum(w.mul(ShortVector.fromArray(S, xq, xo + c))));
            }
            FloatVector sf = (FloatVector) s.convert(VectorOperators.I2F, 0);
            float scale = QuantVectors.half(seg, off) * xd[b];
            if ((b & 1) == 0) {
                acc0 = sf.fma(FloatVector.broadcast(F, scale), acc0);
            } else {
                acc1 = sf.fma(FloatVector.broadcast(F, scale), acc1);
            }
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }

    @Override
    public void copyRow(int row, float[] dst, int dstOffset) {
        checkRowAndVector(row, dst, dstOffset);
        MemorySegment seg = data();
        for (int b = 0; b < blocksPerRow; b++) {
            long off = blockOffset(row, b);
            float d = QuantVectors.half(seg, off);
            int o = dstOffset + b * QK;
            for (int j = 0; j < QK; j++) {
                dst[o + j] = d * seg.get(ValueLayout.JAVA_BYTE, off + 2 + j);
            }
        }
    }
}
