package dev.gearbx.engine.gguf;

import org.jspecify.annotations.Nullable;

/**
 * ggml tensor types: id in the GGUF file, elements per block and bytes per block. The geometry of
 * every type lives here; which types the engine can compute with is {@link #isSupported()}.
 */
public enum GgmlType {
    F32(0, 1, 4, true),
    F16(1, 1, 2, true),
    Q4_0(2, 32, 2 + 16, true),
    Q4_1(3, 32, 2 + 2 + 16, false),
    Q5_0(6, 32, 2 + 4 + 16, false),
    Q5_1(7, 32, 2 + 2 + 4 + 16, false),
    Q8_0(8, 32, 2 + 32, true),
    Q8_1(9, 32, 4 + 4 + 32, false),
    Q2_K(10, 256, 256 / 16 + 256 / 4 + 2 + 2, false),
    Q3_K(11, 256, 256 / 8 + 256 / 4 + 12 + 2, false),
    Q4_K(12, 256, 2 + 2 + 12 + 256 / 2, true),
    Q5_K(13, 256, 2 + 2 + 12 + 256 / 8 + 256 / 2, true),
    Q6_K(14, 256, 256 / 2 + 256 / 4 + 256 / 16 + 2, true),
    Q8_K(15, 256, 4 + 256 + 2 * 256 / 16, false),
    IQ2_XXS(16, 256, 2 + 256 / 4, false),
    IQ2_XS(17, 256, 2 + 256 / 4 + 256 / 32, false),
    IQ3_XXS(18, 256, 2 + 3 * 256 / 8, false),
    IQ1_S(19, 256, 2 + 256 / 8 + 256 / 16, false),
    IQ4_NL(20, 32, 2 + 16, false),
    IQ3_S(21, 256, 2 + 256 / 4 + 256 / 8 + 256 / 32 + 4, false),
    IQ2_S(22, 256, 2 + 256 / 4 + 256 / 16, false),
    IQ4_XS(23, 256, 2 + 2 + 256 / 2 + 256 / 64, false),
    I8(24, 1, 1, false),
    I16(25, 1, 2, false),
    I32(26, 1, 4, false),
    I64(27, 1, 8, false),
    F64(28, 1, 8, false),
    IQ1_M(29, 256, 256 / 8 + 256 / 16 + 256 / 32, false),
    BF16(30, 1, 2, true),
    TQ1_0(34, 256, 2 + 4 * 13, false),
    TQ2_0(35, 256, 2 + 64, false),
    MXFP4(39, 32, 1 + 16, false);

    private static final GgmlType[] BY_ID = new GgmlType[64];

    static {
        for (GgmlType t : values()) {
            BY_ID[t.id] = t;
        }
    }

    private final int id;
    private final int blockSize;
    private final int typeSize;
    private final boolean supported;

    GgmlType(int id, int blockSize, int typeSize, boolean supported) {
        this.id = id;
        this.blockSize = blockSize;
        this.typeSize = typeSize;
        this.supported = supported;
    }

    /** The type's id in GGUF files. */
    public int id() {
        return id;
    }

    /** Elements per block (1 for plain float types). */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes per block. */
    public int typeSize() {
        return typeSize;
    }

    /** Whether gearbx's kernels can compute with this type. */
    public boolean isSupported() {
        return supported;
    }

    /**
     * Bytes taken by {@code elements} elements of this type.
     *
     * @throws IllegalArgumentException if {@code elements} is negative or not a whole number of blocks
     */
    public long byteSize(long elements) {
        if (elements < 0 || elements % blockSize != 0) {
            throw new IllegalArgumentException(
                    "element count " + elements + " is not a whole number of " + this + " blocks of " + blockSize);
        }
        return Math.multiplyExact(elements / blockSize, (long) typeSize);
    }

    /** The type with this GGUF id, or null when the id is unknown. */
    public static @Nullable GgmlType fromId(int id) {
        return id >= 0 && id < BY_ID.length ? BY_ID[id] : null;
    }
}
