package dev.gearbx.engine.gguf;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The key/value metadata of a GGUF file, in file order, with typed accessors. Getters throw a
 * {@link GgufMetadataException} naming the key when it is missing or of the wrong type; {@code
 * find*} methods return empty when the key is missing and still throw on a wrong type.
 */
public final class GgufMetadata {
    private final Map<String, GgufValue> values;

    public GgufMetadata(Map<String, GgufValue> values) {
        this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    /** All entries in file order. */
    public Map<String, GgufValue> asMap() {
        return values;
    }

    public Set<String> keys() {
        return values.keySet();
    }

    public boolean contains(String key) {
        return values.containsKey(key);
    }

    public Optional<GgufValue> find(String key) {
        return Optional.ofNullable(values.get(key));
    }

    public GgufValue get(String key) {
        GgufValue v = values.get(key);
        if (v == null) {
            throw new GgufMetadataException(key, "missing");
        }
        return v;
    }

    public String getString(String key) {
        return findString(key).orElseThrow(() -> new GgufMetadataException(key, "missing"));
    }

    public Optional<String> findString(String key) {
        GgufValue v = values.get(key);
        if (v == null) {
            return Optional.empty();
        }
        if (v.type() != GgufValueType.STRING) {
            throw wrongType(key, "STRING", v);
        }
        return Optional.of((String) v.value());
    }

    /** An integer of any GGUF integer type that fits in an int. */
    public int getInt(String key) {
        return findInt(key).orElseThrow(() -> new GgufMetadataException(key, "missing"));
    }

    public OptionalInt findInt(String key) {
        GgufValue v = values.get(key);
        if (v == null) {
            return OptionalInt.empty();
        }
        long l = integer(key, v);
        if (l < Integer.MIN_VALUE || l > Integer.MAX_VALUE) {
            throw new GgufMetadataException(key, "value " + Long.toUnsignedString(l) + " does not fit in an int");
        }
        return OptionalInt.of((int) l);
    }

    /** A floating-point value (FLOAT32 or FLOAT64). */
    public float getFloat(String key) {
        return findFloat(key).orElseThrow(() -> new GgufMetadataException(key, "missing"));
    }

    public Optional<Float> findFloat(String key) {
        GgufValue v = values.get(key);
        if (v == null) {
            return Optional.empty();
        }
        return switch (v.type()) {
            case FLOAT32 -> Optional.of((Float) v.value());
            case FLOAT64 -> Optional.of(((Double) v.value()).floatValue());
            default -> throw wrongType(key, "FLOAT32", v);
        };
    }

    public Optional<Boolean> findBoolean(String key) {
        GgufValue v = values.get(key);
        if (v == null) {
            return Optional.empty();
        }
        if (v.type() != GgufValueType.BOOL) {
            throw wrongType(key, "BOOL", v);
        }
        return Optional.of((Boolean) v.value());
    }

    public String[] getStringArray(String key) {
        GgufValue v = array(key, GgufValueType.STRING);
        return ((String[]) v.value()).clone();
    }

    /** Like {@link #getStringArray} but without a defensive copy; callers must not modify it. */
    String[] stringArrayView(String key) {
        return (String[]) array(key, GgufValueType.STRING).value();
    }

    public float[] getFloatArray(String key) {
        GgufValue v = get(key);
        if (v.type() != GgufValueType.ARRAY) {
            throw wrongType(key, "ARRAY<FLOAT32>", v);
        }
        if (v.elementType() == GgufValueType.FLOAT32) {
            return ((float[]) v.value()).clone();
        }
        if (v.elementType() == GgufValueType.FLOAT64) {
            double[] d = (double[]) v.value();
            float[] f = new float[d.length];
            for (int i = 0; i < d.length; i++) {
                f[i] = (float) d[i];
            }
            return f;
        }
        throw wrongType(key, "ARRAY<FLOAT32>", v);
    }

    /** An array of any integer element type whose values fit in an int. */
    public int[] getIntArray(String key) {
        GgufValue v = get(key);
        if (v.type() != GgufValueType.ARRAY || v.elementType() == null || !v.elementType().isInteger()) {
            throw wrongType(key, "ARRAY<INT32>", v);
        }
        GgufValueType et = v.elementType();
        Object a = v.value();
        int n = v.length();
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            long l = switch (et) {
                case UINT8 -> ((byte[]) a)[i] & 0xFF;
                case INT8 -> ((byte[]) a)[i];
                case UINT16 -> ((short[]) a)[i] & 0xFFFF;
                case INT16 -> ((short[]) a)[i];
                case UINT32 -> ((int[]) a)[i] & 0xFFFF_FFFFL;
                case INT32 -> ((int[]) a)[i];
                default -> ((long[]) a)[i];
            };
            if (l < Integer.MIN_VALUE || l > Integer.MAX_VALUE) {
                throw new GgufMetadataException(key, "element " + i + " = " + l + " does not fit in an int");
            }
            out[i] = (int) l;
        }
        return out;
    }

    private GgufValue array(String key, GgufValueType elementType) {
        GgufValue v = get(key);
        if (v.type() != GgufValueType.ARRAY || v.elementType() != elementType) {
            throw wrongType(key, "ARRAY<" + elementType + ">", v);
        }
        return v;
    }

    private static long integer(String key, GgufValue v) {
        if (!v.type().isInteger()) {
            throw wrongType(key, "an integer", v);
        }
        if (v.type() == GgufValueType.UINT64 && (Long) v.value() < 0) {
            throw new GgufMetadataException(key, "value " + Long.toUnsignedString((Long) v.value()) + " is too large");
        }
        return (Long) v.value();
    }

    private static GgufMetadataException wrongType(String key, String expected, GgufValue actual) {
        return new GgufMetadataException(key, "expected " + expected + " but the file has " + actual);
    }

    @Override
    public boolean equals(@Nullable Object o) {
        return o instanceof GgufMetadata m && values.equals(m.values);
    }

    @Override
    public int hashCode() {
        return values.hashCode();
    }

    @Override
    public String toString() {
        return "GgufMetadata" + values.keySet();
    }
}
