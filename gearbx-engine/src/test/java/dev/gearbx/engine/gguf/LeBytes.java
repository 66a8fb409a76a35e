package dev.gearbx.engine.gguf;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** A little-endian byte builder for hand-made (often hostile) GGUF files. */
final class LeBytes {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    /** Magic, version, tensor_count, metadata_kv_count. */
    static LeBytes header(int version, long tensorCount, long kvCount) {
        return new LeBytes().raw("GGUF".getBytes(StandardCharsets.US_ASCII)).u32(version).u64(tensorCount).u64(kvCount);
    }

    LeBytes u8(int v) {
        out.write(v);
        return this;
    }

    LeBytes u16(int v) {
        return u8(v).u8(v >>> 8);
    }

    LeBytes u32(int v) {
        return u16(v).u16(v >>> 16);
    }

    LeBytes u64(long v) {
        return u32((int) v).u32((int) (v >>> 32));
    }

    LeBytes raw(byte[] b) {
        out.writeBytes(b);
        return this;
    }

    LeBytes str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return u64(b.length).raw(b);
    }

    /** A metadata key and its value type; the caller appends the value. */
    LeBytes key(String key, GgufValueType type) {
        return str(key).u32(type.id());
    }

    /** A tensor info entry. */
    LeBytes tensor(String name, long[] dims, int typeId, long offset) {
        str(name).u32(dims.length);
        for (long d : dims) {
            u64(d);
        }
        return u32(typeId).u64(offset);
    }

    /** Pads with zeros to a multiple of {@code alignment}. */
    LeBytes pad(int alignment) {
        while (out.size() % alignment != 0) {
            out.write(0);
        }
        return this;
    }

    LeBytes zeros(int n) {
        out.writeBytes(new byte[n]);
        return this;
    }

    int size() {
        return out.size();
    }

    byte[] bytes() {
        return out.toByteArray();
    }
}
