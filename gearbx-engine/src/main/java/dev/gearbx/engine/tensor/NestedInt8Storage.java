package dev.gearbx.engine.tensor;

import static dev.gearbx.engine.tensor.PackedVectors.F;
import static dev.gearbx.engine.tensor.PackedVectors.L;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * LOW and MID gears nested in one byte per weight (plus scales), split into two nibble planes.
 *
 * <p>Per group of {@code G} weights of a row: {@code s} = max|w| / 119 rounded up to a half (stored once),
 * {@code q8 = round(w / s)} in [-119, 119], {@code high = floor((q8 + 8) / 16)} in [-7, 7] and {@code residual =
 * q8 - 16 high} in [-8, 7]. The high plane alone is a 4-bit quantization with scale {@code 16 s} (the LOW gear);
 * {@code 16 high + residual} is exactly {@code q8} (the MID gear, exact int8 with scale {@code s}).
 *
 * <p>Memory: {@code [scales | high plane | residual plane]}, each region contiguous; both planes use the INT4
 * block layout ({@link PackedFormat}). {@link #low()} wraps the prefix {@code [scales | high plane]} only, so its
 * kernels cannot touch the residual plane; {@link #mid()} wraps everything. Both views are created once, here:
 * shifting gear is choosing a field, with no copy and no allocation.
 *
 * <p>LOW vs a direct 4-bit rounding {@code round(w / (16 s))}: the two can differ by one step, when {@code w / s}
 * rounds up onto {@code 16k + 8} from just below it (the double rounding); about 1 weight in 32.
 */
public final class NestedInt8Storage {
    /** Largest |q8|: 119 = 16 * 7 + 7, so that high stays in [-7, 7]. */
    static final int MAX_Q8 = 119;

    private final int rows;
    private final int cols;
    private final int groupSize;
    private final MemorySegment segment;
    private final Low low;
    private final Mid mid;

    private NestedInt8Storage(MemorySegment segment, int rows, int cols, int groupSize) {
        this.rows = rows;
        this.cols = cols;
        this.groupSize = groupSize;
        this.segment = segment;
        long scales = PackedMatrix.scaleRegionBytes(rows, cols, groupSize);
        long plane = planeBytes(rows, cols);
        if (segment.byteSize() != scales + 2 * plane) {
            throw new IllegalArgumentException("nested storage for " + rows + "x" + cols + " G=" + groupSize
                    + " must be " + (scales + 2 * plane) + " bytes, got " + segment.byteSize());
        }
        this.low = new Low(segment.asSlice(0, scales + plane), rows, cols, groupSize);
        this.mid = new Mid(segment, rows, cols, groupSize, scales + plane);
    }

    /**
     * Quantizes {@code source} (read row by row with {@link WeightMatrix#copyRow}) into a new segment of
     * {@code arena}, in parallel over rows when the memory allows other threads.
     *
     * @throws IllegalArgumentException if {@code groupSize} is not 32, 64 or 128 or does not divide the columns
     */
    public static NestedInt8Storage quantize(int groupSize, WeightMatrix source, Arena arena) {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(arena, "arena");
        int rows = source.rows();
        int cols = source.cols();
        PackedFormat.checkShape(cols, groupSize);
        long size = PackedMatrix.scaleRegionBytes(rows, cols, groupSize) + 2 * planeBytes(rows, cols);
        NestedInt8Storage s = new NestedInt8Storage(arena.allocate(size, 64), rows, cols, groupSize);
        PackedMatrix.forEachRow(source, s.segment, r -> s.quantizeRow(source, r));
        return s;
    }

    /** Wraps existing nested memory (for example a copy of {@link #segment()}); no copy. */
    static NestedInt8Storage wrap(MemorySegment segment, int rows, int cols, int groupSize) {
        PackedFormat.checkShape(cols, groupSize);
        return new NestedInt8Storage(segment, rows, cols, groupSize);
    }

    private static long planeBytes(int rows, int cols) {
        return (long) rows * (cols / 2);
    }

    /** The LOW gear: reads the scales and the high plane only. Always the same instance. */
    public PackedMatrix low() {
        return low;
    }

    /** The MID gear: reads the scales and both planes (exact int8). Always the same instance. */
    public PackedMatrix mid() {
        return mid;
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    public int groupSize() {
        return groupSize;
    }

    /** Bytes of one nibble plane ({@code rows * cols / 2}). */
    public long planeBytes() {
        return planeBytes(rows, cols);
    }

    /** Bytes of the scale region. */
    public long scaleBytes() {
        return low.scaleBytes();
    }

    /** All the memory: scales, high plane, residual plane. */
    public MemorySegment segment() {
        return segment;
    }

    public long byteSize() {
        return segment.byteSize();
    }

    private void quantizeRow(WeightMatrix source, int row) {
        float[] w = low.sourceRow(source, row);
        byte[] q8 = new byte[cols];
        for (int g = 0; g < cols / groupSize; g++) {
            int from = g * groupSize;
            short h = PackedMatrix.scaleUp(PackedMatrix.absMax(w, from, from + groupSize), MAX_Q8, row);
            low.writeScale(row, g, h);
            float s = Float.float16ToFloat(h);
            for (int i = from; i < from + groupSize; i++) {
                q8[i] = (byte) PackedMatrix.roundCode(w[i], s, MAX_Q8);
            }
        }
        byte[] high = new byte[cols];
        byte[] residual = new byte[cols];
        for (int i = 0; i < cols; i++) {
            high[i] = (byte) high(q8[i]);
            residual[i] = (byte) (q8[i] - 16 * high[i]);
        }
        byte[] packed = new byte[cols / 2];
        PackedMatrix.packNibbles(high, packed, 0, cols);
        MemorySegment.copy(packed, 0, segment, ValueLayout.JAVA_BYTE, low.codesOffset + row * low.rowBytes,
                packed.length);
        PackedMatrix.packNibbles(residual, packed, 0, cols);
        MemorySegment.copy(packed, 0, segment, ValueLayout.JAVA_BYTE, mid.residualOffset + row * low.rowBytes,
                packed.length);
    }

    /** {@code floor((q8 + 8) / 16)}. */
    static int high(int q8) {
        return Math.floorDiv(q8 + 8, 16);
    }

    /** The LOW view: high plane codes in [-7, 7] times {@code 16 s}. */
    static final class Low extends PackedMatrix {
        Low(MemorySegment prefix, int rows, int cols, int groupSize) {
            super(PackedFormat.NESTED_LOW, prefix, rows, cols, groupSize, cols / 2);
        }

        @Override
        int code(int row, int col) {
            return nibble(data(), codesOffset + row * rowBytes, col);
        }

        @Override
        float scale(int row, int g) {
            return 16f * storedScale(row, g);
        }

        @Override
        public float dot(int row, float[] x, int xOffset) {
            checkRowAndVector(row, x, xOffset);
            if (!PackedVectors.available()) {
                return dotScalar(row, x, xOffset);
            }
            // Same layout as INT4; the factor 16 of the scale is a power of two, so applying it last is exact.
            return 16f * PackedInt4Matrix.dot(data(), (long) row * groups() * 2, codesOffset + row * rowBytes,
                    groups(), groupSize(), x, xOffset);
        }
    }

    /** The MID view: {@code 16 high + residual} (= q8) times {@code s}. */
    static final class Mid extends PackedMatrix {
        /** Byte offset of the residual plane. */
        final long residualOffset;

        Mid(MemorySegment all, int rows, int cols, int groupSize, long residualOffset) {
            super(PackedFormat.NESTED_MID, all, rows, cols, groupSize, cols / 2);
            this.residualOffset = residualOffset;
        }

        /** Both planes. */
        @Override
        public long codeBytes() {
            return 2 * super.codeBytes();
        }

        @Override
        int code(int row, int col) {
            return 16 * nibble(data(), codesOffset + row * rowBytes, col)
                    + nibble(data(), residualOffset + row * rowBytes, col);
        }

        @Override
        public float dot(int row, float[] x, int xOffset) {
            checkRowAndVector(row, x, xOffset);
            if (!PackedVectors.available()) {
                return dotScalar(row, x, xOffset);
            }
            return dot(data(), (long) row * groups() * 2, codesOffset + row * rowBytes,
                    residualOffset + row * rowBytes, groups(), groupSize(), x, xOffset);
        }

        static float dot(MemorySegment seg, long scaleOff, long hBase, long rBase, int groups, int g0, float[] x,
                int xo) {
            // Flat loop folding every 32 weights with its group's scale (see PackedInt4Matrix.dot).
            int cols = groups * g0;
            int shift = Integer.numberOfTrailingZeros(g0);
            FloatVector acc0 = FloatVector.zero(F);
            FloatVector acc1 = FloatVector.zero(F);
            int c = 0;
            for (; c + 64 <= cols; c += 64) {
                long off = c >>> 1;
                FloatVector pa = FloatVector.zero(F);
                FloatVector pb = FloatVector.zero(F);
                for (int sub = 0; sub < 16; sub += L) {
                    int xc = xo + c + sub;
                    // written out (no helper call): an un-inlined helper would box the vectors
                    IntVector h = PackedVectors.bytes(seg, hBase + off + sub);
                    IntVector r = PackedVectors.bytes(seg, rBase + off + sub);
                    IntVector u = PackedVectors.bytes(seg, hBase + off + 16 + sub);
                    IntVector v = PackedVectors.bytes(seg, rBase + off + 16 + sub);
                    // low nibbles: 16 * signed(h & 15) + signed(r & 15); high nibbles: (h & -16) + (r >> 4)
                    IntVector q0 = h.lanewise(VectorOperators.LSHL, 28).lanewise(VectorOperators.ASHR, 24)
                            .add(r.lanewise(VectorOperators.LSHL, 28).lanewise(VectorOperators.ASHR, 28));
                    IntVector q1 = h.and(-16).add(r.lanewise(VectorOperators.ASHR, 4));
                    IntVector q2 = u.lanewise(VectorOperators.LSHL, 28).lanewise(VectorOperators.ASHR, 24)
                            .add(v.lanewise(VectorOperators.LSHL, 28).lanewise(VectorOperators.ASHR, 28));
                    IntVector q3 = u.and(-16).add(v.lanewise(VectorOperators.ASHR, 4));
                    pa = ((FloatVector) q0.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, x, xc), pa);
                    pa = ((FloatVector) q1.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, x, xc + 16), pa);
                    pb = ((FloatVector) q2.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, x, xc + 32), pb);
                    pb = ((FloatVector) q3.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, x, xc + 48), pb);
                }
                acc0 = pa.fma(PackedInt4Matrix.scale(seg, scaleOff, c >>> shift), acc0);
                acc1 = pb.fma(PackedInt4Matrix.scale(seg, scaleOff, (c + 32) >>> shift), acc1);
            }
            if (c < cols) {
                long off = c >>> 1;
                FloatVector pa = FloatVector.zero(F);
                for (int sub = 0; sub < 16; sub += L) {
                    pa = block(seg, hBase + off + sub, rBase + off + sub, x, xo + c + sub, pa);
                }
                acc0 = pa.fma(PackedInt4Matrix.scale(seg, scaleOff, c >>> shift), acc0);
            }
            return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        }

        /** Adds the L lanes of one 32-weight block half: weights xc.. (low nibbles) and xc + 16.. (high). */
        private static FloatVector block(MemorySegment seg, long hOff, long rOff, float[] x, int xc, FloatVector p) {
            IntVector h = PackedVectors.bytes(seg, hOff);
            IntVector r = PackedVectors.bytes(seg, rOff);
            // low nibbles: 16 * signed(h & 15) + signed(r & 15); high nibbles: (h & -16) + (r >> 4)
            IntVector q0 = h.lanewise(VectorOperators.LSHL, 28).lanewise(VectorOperators.ASHR, 24)
                    .add(r.lanewise(VectorOperators.LSHL, 28).lanewise(VectorOperators.ASHR, 28));
            IntVector q1 = h.and(-16).add(r.lanewise(VectorOperators.ASHR, 4));
            p = PackedVectors.toFloat(q0).fma(FloatVector.fromArray(F, x, xc), p);
            return PackedVectors.toFloat(q1).fma(FloatVector.fromArray(F, x, xc + 16), p);
        }
    }
}
