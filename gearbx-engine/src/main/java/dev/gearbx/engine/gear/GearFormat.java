package dev.gearbx.engine.gear;

import dev.gearbx.engine.tensor.PackedFormat;
import org.jspecify.annotations.Nullable;

/** The weight format a gear reads for a managed layer. */
public enum GearFormat {
    /** The model file's own weights (16/32-bit, or whatever the file holds). */
    ORIGINAL(null),
    /** 4-bit: the high nibble plane of the nested storage (shares memory with {@link #NESTED_MID}). */
    NESTED_LOW(PackedFormat.NESTED_LOW),
    /** Exact int8: both nibble planes of the nested storage. */
    NESTED_MID(PackedFormat.NESTED_MID),
    INT8(PackedFormat.INT8),
    INT6(PackedFormat.INT6),
    INT4(PackedFormat.INT4),
    /** Ternary {-1, 0, 1}: aggressive, for LOW in quality experiments. */
    INT2(PackedFormat.INT2);

    private final @Nullable PackedFormat packed;

    GearFormat(@Nullable PackedFormat packed) {
        this.packed = packed;
    }

    /** The packed format, or null for {@link #ORIGINAL}. */
    public @Nullable PackedFormat packed() {
        return packed;
    }

    /** Whether this format lives in the shared nested LOW/MID storage. */
    public boolean nested() {
        return this == NESTED_LOW || this == NESTED_MID;
    }

    /** Bits per weight of the codes (scales not counted); 16 stands for the original. */
    public int bits() {
        return packed == null ? 16 : packed.bits();
    }
}
