package dev.gearbx.engine.hf;

import dev.gearbx.engine.gguf.GgmlType;
import java.util.Optional;

/** Element types of the safetensors format, with their size; F32, F16 and BF16 map to ggml types gearbx computes with. */
public enum SafetensorsDType {
    BOOL(1, null),
    U8(1, null),
    I8(1, null),
    F8_E5M2(1, null),
    F8_E4M3(1, null),
    I16(2, null),
    U16(2, null),
    F16(2, GgmlType.F16),
    BF16(2, GgmlType.BF16),
    I32(4, null),
    U32(4, null),
    F32(4, GgmlType.F32),
    F64(8, null),
    I64(8, null),
    U64(8, null);

    private final int byteSize;
    private final GgmlType ggml;

    SafetensorsDType(int byteSize, GgmlType ggml) {
        this.byteSize = byteSize;
        this.ggml = ggml;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** The ggml type with the same encoding, when gearbx computes with it (F32, F16, BF16). */
    public Optional<GgmlType> ggmlType() {
        return Optional.ofNullable(ggml);
    }

    /** The safetensors dtype of a ggml type gearbx writes unchanged (F32, F16, BF16). */
    public static Optional<SafetensorsDType> of(GgmlType type) {
        return switch (type) {
            case F32 -> Optional.of(F32);
            case F16 -> Optional.of(F16);
            case BF16 -> Optional.of(BF16);
            default -> Optional.empty();
        };
    }
}
