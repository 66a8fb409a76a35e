package dev.gearbx.engine.tensor;

/**
 * gearbx's own packed weight formats: group-wise symmetric integer codes with one IEEE half scale per group of
 * {@code G} consecutive weights of a row ({@code G} in {@link #GROUP_SIZES}). They live in off-heap memory that
 * gearbx allocates ({@link PackedMatrix#quantize}), never in GGUF files.
 *
 * <p>Layouts (per row; the scales of all rows come first, as one region of {@code rows * cols / G} halves):
 *
 * <ul>
 *   <li>{@link #INT8}: {@code cols} signed bytes in column order, codes in [-127, 127], scale max|w|/127.
 *   <li>{@link #INT4}, the nested planes: blocks of 32 weights in 16 bytes; byte {@code j} holds weight {@code j}
 *       in its low nibble and weight {@code j + 16} in its high nibble, as two's-complement nibbles.
 *   <li>{@link #INT2}: blocks of 64 weights in 16 bytes; bits {@code 2k..2k+1} of byte {@code j} hold weight
 *       {@code 16k + j} as a two's-complement pair (-1 = 0b11). A row whose length is an odd number of 32s ends
 *       with a half block (its fields 2 and 3 are zero padding).
 *   <li>{@link #INT6}: the low 4 bits of each code in an INT4-style nibble part ({@code cols / 2} bytes), then
 *       the signed top 2 bits in an INT2-style part ({@code ceil(cols / 64) * 16} bytes); code = 16 * top + low.
 *   <li>{@link #NESTED_LOW} / {@link #NESTED_MID}: see {@link NestedInt8Storage}; two INT4-style planes, each a
 *       contiguous region of its own.
 * </ul>
 *
 * <p>Scales are halves rounded up from {@code max|w| / maxCode} (never down, so no code needs clamping), which
 * makes every dequantized weight {@code code * scale} an exact float.
 */
public enum PackedFormat {
    /** 8-bit codes in [-127, 127], scale max|w| / 127. */
    INT8(8, 127),
    /** 6-bit codes in [-31, 31], scale max|w| / 31 (0.75 bytes per weight). */
    INT6(6, 31),
    /** 4-bit codes in [-7, 7], two per byte, scale max|w| / 7. */
    INT4(4, 7),
    /**
     * Ternary codes {-1, 0, 1}, four per byte. The scale minimizes the squared error of the group: it starts at
     * mean|w| and takes two Lloyd steps (codes for the current scale, then the scale = mean |w| of the nonzero
     * codes, which is the least-squares scale for those codes).
     */
    INT2(2, 1),
    /** The LOW view of {@link NestedInt8Storage}: the high nibble plane alone, codes in [-7, 7], scale 16 s. */
    NESTED_LOW(4, 7),
    /** The MID view of {@link NestedInt8Storage}: high * 16 + residual, codes in [-119, 119], scale s. */
    NESTED_MID(8, 119);

    /** Bytes of one group scale (IEEE binary16, little-endian). */
    public static final int SCALE_BYTES = 2;
    /** Supported group sizes. */
    public static final int[] GROUP_SIZES = {32, 64, 128};
    /**
     * Default group size: 32. Measured (PackedErrorBench, 4096x4096, relative Frobenius error, G = 32 / 64 / 128):
     * NESTED_LOW Gaussian 0.095 / 0.104 / 0.112, Student-t3 0.142 / 0.175 / 0.215; NESTED_MID Gaussian 0.0057 /
     * 0.0063 / 0.0069, t3 0.0091 / 0.0116 / 0.0147. The kernels cost the same per weight for all three (in cache,
     * PackedMatVecBench), so G = 64 only saves scale bytes: LOW reads 0.531 instead of 0.5625 bytes per weight
     * (5.6% less) for 9-23% more error.
     */
    public static final int DEFAULT_GROUP_SIZE = 32;

    private final int bits;
    private final int maxCode;

    PackedFormat(int bits, int maxCode) {
        this.bits = bits;
        this.maxCode = maxCode;
    }

    /** Bits per weight code (without scales). */
    public int bits() {
        return bits;
    }

    /** Largest code magnitude: codes lie in {@code [-maxCode, maxCode]}. */
    public int maxCode() {
        return maxCode;
    }

    /** Whether this is a view of {@link NestedInt8Storage}. */
    public boolean isNested() {
        return this == NESTED_LOW || this == NESTED_MID;
    }

    /** The other view of the same nested storage ({@code NESTED_LOW <-> NESTED_MID}), or this format if not nested. */
    public PackedFormat nestedPartner() {
        return switch (this) {
            case NESTED_LOW -> NESTED_MID;
            case NESTED_MID -> NESTED_LOW;
            default -> this;
        };
    }

    /** Bytes one group of {@code groupSize} weights occupies, its scale included (INT2/INT6 at 64-multiples). */
    public int bytesPerGroup(int groupSize) {
        checkGroupSize(groupSize);
        return groupSize * bits / 8 + SCALE_BYTES;
    }

    /**
     * Weight-code bytes of one row of {@code cols} weights as stored (INT2 and INT6 pad a trailing half block).
     * For the nested formats: the bytes the view reads (one plane for LOW, both for MID).
     */
    public long rowBytes(int cols) {
        long blocks64 = (cols + 63L) / 64;
        return switch (this) {
            case INT8, NESTED_MID -> cols;
            case INT4, NESTED_LOW -> cols / 2;
            case INT2 -> blocks64 * 16;
            case INT6 -> cols / 2 + blocks64 * 16;
        };
    }

    /**
     * Checks that {@code groupSize} is supported and that {@code cols} is a whole number of groups.
     *
     * @throws IllegalArgumentException naming cols and the group size otherwise
     */
    public static void checkShape(int cols, int groupSize) {
        checkGroupSize(groupSize);
        if (cols <= 0 || cols % groupSize != 0) {
            throw new IllegalArgumentException("packed rows must be a whole number of groups: cols=" + cols
                    + " is not a positive multiple of group size G=" + groupSize);
        }
    }

    static void checkGroupSize(int groupSize) {
        if (groupSize != 32 && groupSize != 64 && groupSize != 128) {
            throw new IllegalArgumentException("group size must be 32, 64 or 128, got " + groupSize);
        }
    }
}
