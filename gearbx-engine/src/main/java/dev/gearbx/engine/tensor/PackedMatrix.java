package dev.gearbx.engine.tensor;

import dev.gearbx.engine.gguf.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Objects;
import java.util.stream.IntStream;

/**
 * A matrix in one of gearbx's {@link PackedFormat}s: group-wise symmetric integer codes with a half scale per
 * group, in off-heap memory. {@link #data()} starts with the scale region ({@code rows * cols / G} little-endian
 * halves, row-major), followed by the weight codes ({@link PackedFormat} describes the layouts).
 *
 * <p>{@link #type()} returns {@link GgmlType#I8} for every packed format: GGUF has no type for these layouts, and
 * claiming a block type (Q4_0, Q8_0, ...) would invite code to decode the bytes with that type's layout. Callers
 * must use {@link #format()} and {@link #groupSize()} to tell packed matrices apart; {@code type().byteSize(n)}
 * is not the size of a packed matrix, {@link #byteSize()} is.
 */
public abstract class PackedMatrix extends WeightMatrix {
    static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final PackedFormat format;
    private final int groupSize;
    private final int groups;
    /** Byte offset of the first weight code (= size of the scale region). */
    final long codesOffset;
    /** Bytes per row of the (first) code plane. */
    final long rowBytes;

    PackedMatrix(PackedFormat format, MemorySegment data, int rows, int cols, int groupSize, long rowBytes) {
        super(data, rows, cols);
        PackedFormat.checkShape(cols, groupSize);
        this.format = format;
        this.groupSize = groupSize;
        this.groups = cols / groupSize;
        this.codesOffset = scaleRegionBytes(rows, cols, groupSize);
        this.rowBytes = rowBytes;
    }

    /**
     * Quantizes {@code source} (any {@link WeightMatrix}: it is read row by row with {@link WeightMatrix#copyRow})
     * into a new segment of {@code arena}. Rows are quantized in parallel when both the source's and the
     * arena's memory can be used from other threads. For {@link PackedFormat#NESTED_LOW} / {@code NESTED_MID} this
     * builds a {@link NestedInt8Storage} and returns one of its views (the other is {@code storage().mid()} etc.;
     * to keep both, use {@link NestedInt8Storage#quantize}).
     *
     * @throws IllegalArgumentException if {@code groupSize} is not 32, 64 or 128, {@code source.cols()} is not
     *     a multiple of it, or a group holds a NaN/infinite weight or one too large for a half scale
     */
    public static PackedMatrix quantize(PackedFormat format, int groupSize, WeightMatrix source, Arena arena) {
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(arena, "arena");
        if (format.isNested()) {
            NestedInt8Storage s = NestedInt8Storage.quantize(groupSize, source, arena);
            return format == PackedFormat.NESTED_LOW ? s.low() : s.mid();
        }
        int rows = source.rows();
        int cols = source.cols();
        PackedFormat.checkShape(cols, groupSize);
        long rowBytes = format.rowBytes(cols);
        long scales = scaleRegionBytes(rows, cols, groupSize);
        MemorySegment seg = arena.allocate(scales + rows * rowBytes, 64);
        PackedMatrix m = switch (format) {
            case INT8 -> new PackedInt8Matrix(seg, rows, cols, groupSize);
            case INT6 -> new PackedInt6Matrix(seg, rows, cols, groupSize);
            case INT4 -> new PackedInt4Matrix(seg, rows, cols, groupSize);
            case INT2 -> new PackedInt2Matrix(seg, rows, cols, groupSize);
            default -> throw new AssertionError(format);
        };
        forEachRow(source, seg, r -> m.quantizeRow(source, r));
        return m;
    }

    /** Runs {@code body} for every row of {@code source}, in parallel when both segments allow other threads. */
    static void forEachRow(WeightMatrix source, MemorySegment target, java.util.function.IntConsumer body) {
        Thread probe = new Thread(() -> {});
        boolean shared = source.data().isAccessibleBy(probe) && target.isAccessibleBy(probe);
        IntStream range = IntStream.range(0, source.rows());
        (shared ? range.parallel() : range).forEach(body);
    }

    static long scaleRegionBytes(int rows, int cols, int groupSize) {
        return (long) rows * (cols / groupSize) * PackedFormat.SCALE_BYTES;
    }

    /** The format of this matrix (for the nested views: {@code NESTED_LOW} or {@code NESTED_MID}). */
    public final PackedFormat format() {
        return format;
    }

    /** Weights per scale group. */
    public final int groupSize() {
        return groupSize;
    }

    /** Not a GGUF type: always {@link GgmlType#I8}; see the class comment and use {@link #format()}. */
    @Override
    public final GgmlType type() {
        return GgmlType.I8;
    }

    /** Bytes of weight codes one matvec reads (all rows; scales not included). */
    public long codeBytes() {
        return rows() * rowBytes;
    }

    /** Bytes of scales one matvec reads. */
    public final long scaleBytes() {
        return codesOffset;
    }

    final int groups() {
        return groups;
    }

    /** The code of element {@code [row][col]} (no bounds checks). */
    abstract int code(int row, int col);

    /** The stored scale of group {@code g} of {@code row} (for NESTED_LOW this is s, the view scale is 16 s). */
    final float storedScale(int row, int g) {
        return Float.float16ToFloat(data().get(LE_SHORT, ((long) row * groups + g) * PackedFormat.SCALE_BYTES));
    }

    /** The scale that multiplies this view's codes. */
    float scale(int row, int g) {
        return storedScale(row, g);
    }

    /** Quantizes source row {@code row} into this matrix's memory. */
    void quantizeRow(WeightMatrix source, int row) {
        throw new UnsupportedOperationException(format.toString());
    }

    @Override
    public final float get(int row, int col) {
        checkElement(row, col);
        return code(row, col) * scale(row, col / groupSize);
    }

    @Override
    public float dotScalar(int row, float[] x, int xOffset) {
        checkRowAndVector(row, x, xOffset);
        float sum = 0f;
        for (int c = 0; c < cols(); c++) {
            sum += code(row, c) * scale(row, c / groupSize) * x[xOffset + c];
        }
        return sum;
    }

    @Override
    public void copyRow(int row, float[] dst, int dstOffset) {
        checkRowAndVector(row, dst, dstOffset);
        for (int g = 0, c = 0; g < groups; g++) {
            float s = scale(row, g);
            for (int end = c + groupSize; c < end; c++) {
                dst[dstOffset + c] = code(row, c) * s;
            }
        }
    }

    @Override
    public String toString() {
        return format + "/G" + groupSize + "[" + rows() + "x" + cols() + "]";
    }

    // ---- quantization helpers ----

    /**
     * The half scale for a group whose largest magnitude is {@code amax}: {@code amax / maxCode} rounded up to a
     * half, so {@code |w / scale| <= maxCode} for every weight of the group.
     */
    static short scaleUp(float amax, int maxCode, int row) {
        if (!Float.isFinite(amax)) {
            throw new IllegalArgumentException("row " + row + " holds a NaN or infinite weight");
        }
        float s = amax / maxCode;
        short h = Float.floatToFloat16(s);
        if (Float.float16ToFloat(h) < s) {
            h++;
        }
        if (!Float.isFinite(Float.float16ToFloat(h))) {
            throw new IllegalArgumentException("row " + row + " has a weight of magnitude " + amax
                    + ", too large for a half scale");
        }
        return h;
    }

    /** {@code round(w / s)} clamped to {@code [-max, max]}; 0 when {@code s} is 0. */
    static int roundCode(float w, float s, int max) {
        if (s == 0f) {
            return 0;
        }
        int q = Math.round(w / s);
        return Math.max(-max, Math.min(max, q));
    }

    static float absMax(float[] w, int from, int to) {
        float m = 0f;
        for (int i = from; i < to; i++) {
            m = Math.max(m, Math.abs(w[i]));
        }
        return m;
    }

    /** Codes of row {@code w} with scales {@code max|w|/maxCode} (rounded up to halves) into q; writes the scales. */
    final void symmetricCodes(float[] w, byte[] q, int row, int maxCode) {
        int g0 = groupSize;
        for (int g = 0; g < groups; g++) {
            int from = g * g0;
            short h = scaleUp(absMax(w, from, from + g0), maxCode, row);
            writeScale(row, g, h);
            float s = Float.float16ToFloat(h);
            for (int i = from; i < from + g0; i++) {
                q[i] = (byte) roundCode(w[i], s, maxCode);
            }
        }
    }

    final void writeScale(int row, int g, short h) {
        data().set(LE_SHORT, ((long) row * groups + g) * PackedFormat.SCALE_BYTES, h);
    }

    final float[] sourceRow(WeightMatrix source, int row) {
        float[] w = new float[cols()];
        source.copyRow(row, w, 0);
        return w;
    }

    /** Packs codes into INT4-style blocks (32 weights in 16 bytes, weight j low nibble, j + 16 high nibble). */
    static void packNibbles(byte[] q, byte[] out, int outOffset, int cols) {
        for (int b = 0; b < cols; b += 32) {
            for (int j = 0; j < 16; j++) {
                out[outOffset + b / 2 + j] = (byte) ((q[b + j] & 0xF) | (q[b + 16 + j] << 4));
            }
        }
    }

    /** Packs the low two bits of codes into INT2-style blocks (64 weights in 16 bytes; a trailing 32 padded). */
    static void packCrumbs(byte[] q, byte[] out, int outOffset, int cols) {
        for (int b = 0; b < cols; b += 64) {
            for (int j = 0; j < 16; j++) {
                int v = 0;
                for (int k = 0; k < 4; k++) {
                    int c = b + 16 * k + j;
                    if (c < cols) {
                        v |= (q[c] & 3) << (2 * k);
                    }
                }
                out[outOffset + b / 4 + j] = (byte) v;
            }
        }
    }

    /** Signed nibble {@code col} of an INT4-style row starting at byte {@code rowBase}. */
    static int nibble(MemorySegment seg, long rowBase, int col) {
        int b = seg.get(ValueLayout.JAVA_BYTE, rowBase + (col >>> 5) * 16L + (col & 15));
        return (col & 16) == 0 ? (b << 28) >> 28 : b >> 4;
    }

    /** Signed 2-bit field {@code col} of an INT2-style row starting at byte {@code rowBase}. */
    static int crumb(MemorySegment seg, long rowBase, int col) {
        int b = seg.get(ValueLayout.JAVA_BYTE, rowBase + (col >>> 6) * 16L + (col & 15));
        int k = (col >>> 4) & 3;
        return (b << (30 - 2 * k)) >> 30;
    }
}
