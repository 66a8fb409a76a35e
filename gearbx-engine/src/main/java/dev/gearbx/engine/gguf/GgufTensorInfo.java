package dev.gearbx.engine.gguf;

import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * One tensor's entry in a GGUF file.
 *
 * @param name tensor name, e.g. {@code blk.0.attn_q.weight}
 * @param shape dimensions in ggml order: {@code shape[0]} (ne0) is the contiguous one, so a matrix
 *     of {@code rows x cols} has shape {@code [cols, rows]}
 * @param type element type
 * @param offset byte offset of the data relative to the start of the file's tensor data section
 */
public record GgufTensorInfo(String name, long[] shape, GgmlType type, long offset) {

    public GgufTensorInfo {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Size of dimension {@code i} (1 beyond the tensor's rank). */
    public long dim(int i) {
        return i < shape.length ? shape[i] : 1;
    }

    public int rank() {
        return shape.length;
    }

    /** Number of elements (product of the dimensions). */
    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** Bytes of data in the file. */
    public long byteSize() {
        return type.byteSize(elementCount());
    }

    @Override
    public boolean equals(@Nullable Object o) {
        return o instanceof GgufTensorInfo t
                && name.equals(t.name)
                && Arrays.equals(shape, t.shape)
                && type == t.type
                && offset == t.offset;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(shape) + " @" + offset;
    }
}
