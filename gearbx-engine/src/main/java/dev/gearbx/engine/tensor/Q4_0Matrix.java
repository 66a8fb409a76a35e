package dev.gearbx.engine.tensor;

import static dev.gearbx.engine.tensor.QuantVectors.B16;
import static dev.gearbx.engine.tensor.QuantVectors.F;
import static dev.gearbx.engine.tensor.QuantVectors.I;
import static dev.gearbx.engine.tensor.QuantVectors.L;
import static dev.gearbx.engine.tensor.QuantVectors.LE;
import static dev.gearbx.engine.tensor.QuantVectors.LE_SHORT;
import static dev.gearbx.engine.tensor.QuantVectors.PARTS;
import static dev.gearbx.engine.tensor.QuantVectors.QK;
import static dev.gearbx.engine.tensor.QuantVectors.Q4_0_XSTRIDE;
import static dev.gearbx.engine.tensor.QuantVectors.SH;

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
 * ggml Q4_0, read in place: blocks of 32 elements of 18 bytes, an IEEE half scale {@code d} then 16 bytes
 * {@code qs}; element {@code j < 16} is {@code d * ((qs[j] & 0x0F) - 8)}, element {@code j + 16} is
 * {@code d * ((qs[j] >> 4) - 8)}. Rows are whole blocks ({@code cols % 32 == 0}).
 *
 * <p>{@link #dot} unpacks nibbles in registers, widens them to float and FMAs with x. {@link #dotRows} (512-bit)
 * arranges x once per call ({@link QuantVectors#arrangeQ4_0}) and runs four rows per pass (then two, then one),
 * nibbles masked without shifts or "-8" subtractions. With int8 activations (see
 * {@link QuantVectors#INT8_DEFAULT}) {@link #dotRows} quantizes x once per call and does integer block dots.
 */
public final class Q4_0Matrix extends WeightMatrix {
    static final int BLOCK_BYTES = 18;

    private final int blocksPerRow;
    private final boolean int8Activations;

    Q4_0Matrix(MemorySegment data, int rows, int cols) {
        this(data, rows, cols, QuantVectors.INT8_DEFAULT);
    }

    Q4_0Matrix(MemorySegment data, int rows, int cols, boolean int8Activations) {
        super(data, rows, cols);
        if (cols % QK != 0) {
            throw new IllegalArgumentException("Q4_0 matrix cols=" + cols + " is not a multiple of the block size 32");
        }
        this.blocksPerRow = cols / QK;
        this.int8Activations = int8Activations && QuantVectors.INT_OK;
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q4_0;
    }

    private long blockOffset(int row, int block) {
        return ((long) row * blocksPerRow + block) * BLOCK_BYTES;
    }

    private static int nibble(MemorySegment seg, long off, int j) {
        int q = seg.get(ValueLayout.JAVA_BYTE, off + 2 + (j & 15)) & 0xFF;
        return (j < 16 ? q & 0x0F : q >>> 4) - 8;
    }

    @Override
    public float get(int row, int col) {
        checkElement(row, col);
        long off = blockOffset(row, col / QK);
        return QuantVectors.half(data(), off) * nibble(data(), off, col % QK);
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
                s += nibble(seg, off, j) * x[xo + j];
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

    /**
     * Σ (q_j - 8) x_j of one block, lane-wise (not yet scaled by d). The nibbles are split after widening the bytes
     * to int lanes (x86 has no byte shifts).
     */
    private static FloatVector block(MemorySegment seg, long off, float[] x, int xo) {
        ByteVector qs = ByteVector.fromMemorySegment(B16, seg, off + 2, LE);
        FloatVector s = FloatVector.zero(F);
        for (int p = 0; p < PARTS; p++) {
            IntVector q = (IntVector) qs.convertShape(VectorOperators.B2I, I, p);
            FloatVector lo = (FloatVector) q.and(0x0F).sub(8).convert(VectorOperators.I2F, 0);
            FloatVector hi = (FloatVector) q.lanewise(VectorOperators.ASHR, 4).and(0x0F).sub(8)
                    .convert(VectorOperators.I2F, 0);
            s = lo.fma(FloatVector.fromArray(F, x, xo + p * L), s);
            s = hi.fma(FloatVector.fromArray(F, x, xo + 16 + p * L), s);
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
            float[] xr = QuantVectors.arrangeQ4_0(x, cols());
            MemorySegment seg = data();
            long rowBytes = (long) blocksPerRow * BLOCK_BYTES;
            // the four rows of a pass are a quarter of the range apart, so each of the four weight streams runs on
            // contiguously into its next row (adjacent rows made four short streams: slower than one row at a time
            // at 2048 cols from DRAM)
            int quarter = (to - from) / 4;
            for (int i = 0; i < quarter; i++) {
                int r = from + i;
                dot4(seg, blockOffset(r, 0), quarter * rowBytes, blocksPerRow, xr, out, r, quarter);
            }
            int r = from + 4 * quarter;
            for (; r + 2 <= to; r += 2) {
                dot2(seg, blockOffset(r, 0), rowBytes, blocksPerRow, xr, out, r);
            }
            if (r < to) {
                dot1(seg, blockOffset(r, 0), blocksPerRow, xr, out, r);
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
     * Rows {@code r + i * step}, i = 0..3 (row i at {@code base + i * rowBytes}) against x arranged by
     * {@link QuantVectors#arrangeQ4_0}, 512-bit only. Per block the three x vectors are loaded once for the four rows;
     * per row the 16 quant bytes widen to 16 int lanes, {@code v & 0x0F} is the low nibble (element j) and
     * {@code v & 0xF0} 16 times the high one (element j + 16, whose x is pre-scaled by 1/16), each converted and FMA'd
     * with x onto the block's -8 offset lanes; one FMA with the broadcast scale adds the block. Written out (no vector
     * helpers) so C2 keeps everything in registers.
     */
    private static void dot4(MemorySegment seg, long base, long rowBytes, int blocks, float[] xr, float[] out, int r,
            int step) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            int xo = b * Q4_0_XSTRIDE;
            FloatVector x0 = FloatVector.fromArray(F, xr, xo);
            FloatVector x1 = FloatVector.fromArray(F, xr, xo + 16);
            FloatVector c = FloatVector.fromArray(F, xr, xo + 32);
            IntVector v;
            FloatVector s;
            long q = base + (long) b * BLOCK_BYTES;
            v = (IntVector) ByteVector.fromMemorySegment(B16, seg, q + 2, LE).convertShape(VectorOperators.B2I, I, 0);
            s = ((FloatVector) v.and(0x0F).convert(VectorOperators.I2F, 0)).fma(x0, c);
            s = ((FloatVector) v.and(0xF0).convert(VectorOperators.I2F, 0)).fma(x1, s);
            a0 = s.fma(FloatVector.broadcast(F, Float.float16ToFloat(seg.get(LE_SHORT, q))), a0);
            q += rowBytes;
            v = (IntVector) ByteVector.fromMemorySegment(B16, seg, q + 2, LE).convertShape(VectorOperators.B2I, I, 0);
            s = ((FloatVector) v.and(0x0F).convert(VectorOperators.I2F, 0)).fma(x0, c);
            s = ((FloatVector) v.and(0xF0).convert(VectorOperators.I2F, 0)).fma(x1, s);
            a1 = s.fma(FloatVector.broadcast(F, Float.float16ToFloat(seg.get(LE_SHORT, q))), a1);
            q += rowBytes;
            v = (IntVector) ByteVector.fromMemorySegment(B16, seg, q + 2, LE).convertShape(VectorOperators.B2I, I, 0);
            s = ((FloatVector) v.and(0x0F).convert(VectorOperators.I2F, 0)).fma(x0, c);
            s = ((FloatVector) v.and(0xF0).convert(VectorOperators.I2F, 0)).fma(x1, s);
            a2 = s.fma(FloatVector.broadcast(F, Float.float16ToFloat(seg.get(LE_SHORT, q))), a2);
            q += rowBytes;
            v = (IntVector) ByteVector.fromMemorySegment(B16, seg, q + 2, LE).convertShape(VectorOperators.B2I, I, 0);
            s = ((FloatVector) v.and(0x0F).convert(VectorOperators.I2F, 0)).fma(x0, c);
            s = ((FloatVector) v.and(0xF0).convert(VectorOperators.I2F, 0)).fma(x1, s);
            a3 = s.fma(FloatVector.broadcast(F, Float.float16ToFloat(seg.get(LE_SHORT, q))), a3);
        }
        out[r] = a0.reduceLanes(VectorOperators.ADD);
        out[r + step] = a1.reduceLanes(VectorOperators.ADD);
        out[r + 2 * step] = a2.reduceLanes(VectorOperators.ADD);
        out[r + 3 * step] = a3.reduceLanes(VectorOperators.ADD);
    }

    /** {@link #dot4} for two adjacent rows. */
    private static void dot2(MemorySegment seg, long base, long rowBytes, int blocks, float[] xr, float[] out, int r) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            int xo = b * Q4_0_XSTRIDE;
            FloatVector x0 = FloatVector.fromArray(F, xr, xo);
            FloatVector x1 = FloatVector.fromArray(F, xr, xo + 16);
            FloatVector c = FloatVector.fromArray(F, xr, xo + 32);
            IntVector v;
            FloatVector s;
            long q = base + (long) b * BLOCK_BYTES;
            v = (IntVector) ByteVector.fromMemorySegment(B16, seg, q + 2, LE).convertShape(VectorOperators.B2I, I, 0);
            s = ((FloatVector) v.and(0x0F).convert(VectorOperators.I2F, 0)).fma(x0, c);
            s = ((FloatVector) v.and(0xF0).convert(VectorOperators.I2F, 0)).fma(x1, s);
            a0 = s.fma(FloatVector.broadcast(F, Float.float16ToFloat(seg.get(LE_SHORT, q))), a0);
            q += rowBytes;
            v = (IntVector) ByteVector.fromMemorySegment(B16, seg, q + 2, LE).convertShape(VectorOperators.B2I, I, 0);
            s = ((FloatVector) v.and(0x0F).convert(VectorOperators.I2F, 0)).fma(x0, c);
            s = ((FloatVector) v.and(0xF0).convert(VectorOperators.I2F, 0)).fma(x1, s);
            a1 = s.fma(FloatVector.broadcast(F, Float.float16ToFloat(seg.get(LE_SHORT, q))), a1);
        }
        out[r] = a0.reduceLanes(VectorOperators.ADD);
        out[r + 1] = a1.reduceLanes(VectorOperators.ADD);
    }

    /** {@link #dot4} for one row. */
    private static void dot1(MemorySegment seg, long base, int blocks, float[] xr, float[] out, int r) {
        FloatVector a0 = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            int xo = b * Q4_0_XSTRIDE;
            FloatVector x0 = FloatVector.fromArray(F, xr, xo);
            FloatVector x1 = FloatVector.fromArray(F, xr, xo + 16);
            FloatVector c = FloatVector.fromArray(F, xr, xo + 32);
            IntVector v;
            FloatVector s;
            long q = base + (long) b * BLOCK_BYTES;
            v = (IntVector) ByteVector.fromMemorySegment(B16, seg, q + 2, LE).convertShape(VectorOperators.B2I, I, 0);
            s = ((FloatVector) v.and(0x0F).convert(VectorOperators.I2F, 0)).fma(x0, c);
            s = ((FloatVector) v.and(0xF0).convert(VectorOperators.I2F, 0)).fma(x1, s);
            a0 = s.fma(FloatVector.broadcast(F, Float.float16ToFloat(seg.get(LE_SHORT, q))), a0);
        }
        out[r] = a0.reduceLanes(VectorOperators.ADD);
    }

    /**
     * Integer block dots with int8 activations: nibble-8 times x fits a short (|p| <= 8 * 127), low and high half
     * products are added as shorts, then widened to int lanes.
     */
    static float dotInt8(MemorySegment seg, long base, int blocks, short[] xq, float[] xd) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long off = base + (long) b * BLOCK_BYTES;
            int xo = b * QK;
            ByteVector qs = ByteVector.fromMemorySegment(B16, seg, off + 2, LE);
            IntVector s = IntVector.zero(I);
            for (int p = 0; p < PARTS; p++) {
                ShortVector q = (ShortVector) qs.convertShape(VectorOperators.B2S, SH, p);
                ShortVector pl = q.and((short) 0x0F).sub((short) 8).mul(ShortVector.fromArray(SH, xq, xo + p * L));
                ShortVector ph = q.lanewise(VectorOperators.ASHR, 4).and((short) 0x0F).sub((short) 8)
                        .mul(ShortVector.fromArray(SH, xq, xo + 16 + p * L));
                s = s.add((IntVector) pl.add(ph).convertShape(VectorOperators.S2I, I, 0));
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
            for (int j = 0; j < 16; j++) {
                int q = seg.get(ValueLayout.JAVA_BYTE, off + 2 + j) & 0xFF;
                dst[o + j] = d * ((q & 0x0F) - 8);
                dst[o + j + 16] = d * ((q >>> 4) - 8);
            }
        }
    }
}
