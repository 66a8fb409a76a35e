package dev.gearbx.engine.gguf;

import java.util.Arrays;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One metadata value with its GGUF type. Scalars are held as {@link Long} (every integer type;
 * UINT64 above {@code Long.MAX_VALUE} keeps its bits), {@link Float}, {@link Double}, {@link
 * Boolean} or {@link String}. Arrays are held as a primitive array per element type: byte[]
 * (UINT8, INT8), short[] (UINT16, INT16), int[] (UINT32, INT32), long[] (UINT64, INT64), float[],
 * double[], boolean[], String[], or GgufValue[] for arrays of arrays.
 *
 * @param type the value's type
 * @param elementType for arrays, the element type; otherwise null
 * @param value the value as described above
 */
public record GgufValue(GgufValueType type, @Nullable GgufValueType elementType, Object value) {

    public GgufValue {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(value, "value");
        if ((type == GgufValueType.ARRAY) != (elementType != null)) {
            throw new IllegalArgumentException("elementType must be set exactly for arrays, type " + type);
        }
    }

    public static GgufValue ofString(String s) {
        return new GgufValue(GgufValueType.STRING, null, s);
    }

    public static GgufValue ofUint32(long v) {
        if (v < 0 || v > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("uint32 out of range: " + v);
        }
        return new GgufValue(GgufValueType.UINT32, null, v);
    }

    public static GgufValue ofInt32(int v) {
        return new GgufValue(GgufValueType.INT32, null, (long) v);
    }

    public static GgufValue ofUint64(long v) {
        return new GgufValue(GgufValueType.UINT64, null, v);
    }

    public static GgufValue ofFloat32(float v) {
        return new GgufValue(GgufValueType.FLOAT32, null, v);
    }

    public static GgufValue ofBool(boolean v) {
        return new GgufValue(GgufValueType.BOOL, null, v);
    }

    public static GgufValue ofStrings(String... values) {
        return new GgufValue(GgufValueType.ARRAY, GgufValueType.STRING, values.clone());
    }

    public static GgufValue ofFloats(float... values) {
        return new GgufValue(GgufValueType.ARRAY, GgufValueType.FLOAT32, values.clone());
    }

    public static GgufValue ofInt32s(int... values) {
        return new GgufValue(GgufValueType.ARRAY, GgufValueType.INT32, values.clone());
    }

    /** Number of elements for an array, 1 for a scalar. */
    public int length() {
        if (type != GgufValueType.ARRAY) {
            return 1;
        }
        return java.lang.reflect.Array.getLength(value);
    }

    @Override
    public boolean equals(@Nullable Object o) {
        return o instanceof GgufValue v
                && type == v.type
                && elementType == v.elementType
                && Arrays.deepEquals(new Object[] {value}, new Object[] {v.value});
    }

    @Override
    public int hashCode() {
        return Objects.hash(type, elementType, Arrays.deepHashCode(new Object[] {value}));
    }

    @Override
    public String toString() {
        if (type != GgufValueType.ARRAY) {
            return type + ":" + value;
        }
        return "ARRAY<" + elementType + ">[" + length() + "]";
    }
}
