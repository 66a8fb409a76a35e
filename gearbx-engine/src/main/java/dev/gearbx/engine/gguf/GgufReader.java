package dev.gearbx.engine.gguf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Parses the header, metadata and tensor table of a mapped GGUF file, field by field as the spec
 * lays them out, checking every count and length against the bytes that are actually there before
 * allocating anything, so hostile files fail with a {@link GgufFormatException} and never with an
 * OutOfMemoryError.
 */
final class GgufReader {
    /** Longest string accepted (chat templates are tens of KB; vocab entries a few bytes). */
    static final int MAX_STRING_BYTES = 16 << 20;
    /** Most elements in one metadata array (largest real vocabularies/merge lists are ~1M). */
    static final long MAX_ARRAY_LENGTH = 1L << 26;
    /** ggml's GGML_MAX_DIMS. */
    static final int MAX_DIMS = 4;
    static final int MAX_NESTING = 8;
    /** Largest general.alignment accepted (real files use 32). */
    static final int MAX_ALIGNMENT = 1 << 20;
    /**
     * Most heap the parsed metadata and tensor table may take (estimated). Small encodings expand on
     * the heap (an empty string is 8 bytes in the file but a String object in memory), so a file of
     * a few hundred MB could otherwise exhaust the heap; real models need a few tens of MB.
     */
    static final long MAX_HEAP_BYTES = Math.max(64L << 20, Math.min(1L << 30, Runtime.getRuntime().maxMemory() / 4));

    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path path;
    private final MemorySegment seg;
    private final long size;
    private long pos;
    /** Estimated heap taken so far by what has been parsed, checked against MAX_HEAP_BYTES. */
    private long heapBytes;

    private GgufReader(Path path, MemorySegment seg) {
        this.path = path;
        this.seg = seg;
        this.size = seg.byteSize();
    }

    static GgufFile read(Path path, Arena arena, MemorySegment mapping) {
        GgufReader r = new GgufReader(path, mapping);
        return r.readFile(arena);
    }

    private GgufFile readFile(Arena arena) {
        long at = pos;
        int magic = u32("magic");
        if (magic != GgufFile.MAGIC) {
            throw error("magic", at, String.format("expected 'GGUF' (0x%08X) but found 0x%08X", GgufFile.MAGIC, magic));
        }
        at = pos;
        int version = u32("version");
        if (version == 1) {
            throw error("version", at, "GGUF version 1 is not supported (versions 2 and 3 are); re-convert the model");
        }
        if (version != 2 && version != 3) {
            boolean swapped = Integer.reverseBytes(version) == 2 || Integer.reverseBytes(version) == 3;
            throw error("version", at, swapped
                    ? "big-endian GGUF files are not supported"
                    : "unsupported version " + Integer.toUnsignedString(version) + " (versions 2 and 3 are)");
        }
        at = pos;
        long tensorCount = u64("tensor_count");
        // a tensor info takes at least 8 (name length) + 4 (n_dims) + 8 (one dim) + 4 (type) + 8 (offset) bytes
        checkCount("tensor_count", at, tensorCount, 32);
        at = pos;
        long kvCount = u64("metadata_kv_count");
        // a key/value takes at least 8 (key length) + 4 (type) + 1 (value) bytes
        checkCount("metadata_kv_count", at, kvCount, 13);

        Map<String, GgufValue> kv = new LinkedHashMap<>();
        long alignmentAt = 0;
        for (long i = 0; i < kvCount; i++) {
            long keyAt = pos;
            charge("metadata[" + i + "]", keyAt, 64); // map entry and value record
            String key = string("metadata[" + i + "].key");
            if (kv.containsKey(key)) {
                throw error("metadata[" + i + "].key", keyAt, "duplicate key '" + key + "'");
            }
            if (key.equals("general.alignment")) {
                alignmentAt = pos + 4; // after the value type
            }
            GgufValue value = value("metadata['" + key + "']", 0);
            kv.put(key, value);
        }
        GgufMetadata metadata = new GgufMetadata(kv);

        int alignment = GgufFile.DEFAULT_ALIGNMENT;
        GgufValue al = kv.get("general.alignment");
        if (al != null) {
            long a = al.type() == GgufValueType.UINT32 || al.type() == GgufValueType.INT32 ? (Long) al.value() : -1;
            if (a <= 0 || Long.bitCount(a) != 1 || a > MAX_ALIGNMENT) {
                throw error("metadata['general.alignment']", alignmentAt, "must be a UINT32 power of two, got " + al);
            }
            alignment = (int) a;
        }

        // capacity grows as entries are read: tensor_count is only known to fit in the file
        List<GgufTensorInfo> tensors = new ArrayList<>((int) Math.min(tensorCount, 1024));
        long[] offsetFieldAt = new long[(int) Math.min(tensorCount, 1024)];
        Set<String> names = new HashSet<>();
        for (long i = 0; i < tensorCount; i++) {
            String field = "tensor[" + i + "]";
            long nameAt = pos;
            charge(field, nameAt, 128); // record, shape array, list and set entries
            String name = string(field + ".name");
            if (!names.add(name)) {
                throw error(field + ".name", nameAt, "duplicate tensor name '" + name + "'");
            }
            field = "tensor[" + i + " '" + name + "']";
            long dimsAt = pos;
            int nDims = u32(field + ".n_dims");
            if (nDims < 1 || nDims > MAX_DIMS) {
                throw error(field + ".n_dims", dimsAt, "must be 1.." + MAX_DIMS + ", got " + Integer.toUnsignedString(nDims));
            }
            long[] shape = new long[nDims];
            long elements = 1;
            for (int d = 0; d < nDims; d++) {
                long dAt = pos;
                shape[d] = u64(field + ".dims[" + d + "]");
                if (shape[d] < 0) {
                    throw error(field + ".dims[" + d + "]", dAt, "dimension " + Long.toUnsignedString(shape[d]) + " is too large");
                }
                try {
                    elements = Math.multiplyExact(elements, shape[d]);
                } catch (ArithmeticException e) {
                    throw error(field + ".dims[" + d + "]", dAt, "element count overflows with dimensions " + java.util.Arrays.toString(shape));
                }
            }
            long typeAt = pos;
            int typeId = u32(field + ".type");
            GgmlType type = GgmlType.fromId(typeId);
            if (type == null) {
                throw error(field + ".type", typeAt, "unknown ggml tensor type id " + Integer.toUnsignedString(typeId));
            }
            if (shape[0] % type.blockSize() != 0) {
                throw error(field + ".dims[0]", dimsAt + 4, "row length " + shape[0] + " is not a multiple of the "
                        + type + " block size " + type.blockSize());
            }
            try {
                type.byteSize(elements);
            } catch (ArithmeticException e) {
                throw error(field + ".dims", dimsAt + 4, elements + " elements of " + type
                        + " take more bytes than a long can count (byte size overflows)");
            }
            long offAt = pos;
            long offset = u64(field + ".offset");
            if (offset < 0 || offset % alignment != 0) {
                throw error(field + ".offset", offAt, "offset " + Long.toUnsignedString(offset)
                        + " is not a multiple of the alignment " + alignment);
            }
            if ((int) i == offsetFieldAt.length) {
                offsetFieldAt = java.util.Arrays.copyOf(offsetFieldAt, offsetFieldAt.length * 2);
            }
            offsetFieldAt[(int) i] = offAt;
            tensors.add(new GgufTensorInfo(name, shape, type, offset));
        }

        long dataOffset = align(pos, alignment);
        // each tensor must lie inside the file and must not overlap the next one; errors name the
        // tensor's offset field (the data start may not even be a valid file offset)
        Integer[] byOffset = new Integer[tensors.size()];
        for (int i = 0; i < byOffset.length; i++) {
            byOffset[i] = i;
        }
        java.util.Arrays.sort(byOffset, Comparator.comparingLong(i -> tensors.get(i).offset()));
        long previousEnd = 0;
        String previousName = "";
        for (int i : byOffset) {
            GgufTensorInfo t = tensors.get(i);
            String field = "tensor[" + i + " '" + t.name() + "'].offset";
            long bytes = t.byteSize(); // checked while parsing
            long start = dataOffset + t.offset(); // negative when it overflows
            if (start < 0 || start > size || bytes > size - start) {
                throw error(field, offsetFieldAt[i], "data of " + bytes + " bytes (" + t.type() + " "
                        + java.util.Arrays.toString(t.shape()) + ") at data offset " + t.offset()
                        + " ends past the end of the file (" + size + " bytes, data section at " + dataOffset + ")");
            }
            if (t.offset() < previousEnd) {
                throw error(field, offsetFieldAt[i], "data at data offset " + t.offset() + " overlaps tensor '"
                        + previousName + "', which ends at data offset " + previousEnd);
            }
            previousEnd = t.offset() + bytes;
            previousName = t.name();
        }
        return new GgufFile(path, arena, seg, version, metadata, tensors, dataOffset, alignment);
    }

    private GgufValue value(String field, int depth) {
        long at = pos;
        int typeId = u32(field + ".type");
        GgufValueType type = GgufValueType.fromId(typeId);
        if (type == null) {
            throw error(field + ".type", at, "unknown metadata value type " + Integer.toUnsignedString(typeId));
        }
        if (type != GgufValueType.ARRAY) {
            return new GgufValue(type, null, scalar(field, type));
        }
        return arrayValue(field, depth);
    }

    /** An array after its ARRAY tag: element type, length, elements (nested arrays recurse). */
    private GgufValue arrayValue(String field, int depth) {
        if (depth >= MAX_NESTING) {
            throw error(field, pos, "arrays nested deeper than " + MAX_NESTING);
        }
        long etAt = pos;
        int etId = u32(field + ".element_type");
        GgufValueType et = GgufValueType.fromId(etId);
        if (et == null) {
            throw error(field + ".element_type", etAt, "unknown metadata value type " + Integer.toUnsignedString(etId));
        }
        long countAt = pos;
        long count = u64(field + ".length");
        if (count < 0 || count > MAX_ARRAY_LENGTH) {
            throw error(field + ".length", countAt, "array length " + Long.toUnsignedString(count) + " exceeds the limit " + MAX_ARRAY_LENGTH);
        }
        checkCount(field + ".length", countAt, count, et.minimumSize());
        charge(field, countAt, 32 + count * heapSize(et));
        int n = (int) count;
        Object array = switch (et) {
            case UINT8, INT8 -> {
                byte[] a = new byte[n];
                MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, pos, a, 0, n);
                pos += n;
                yield a;
            }
            case UINT16, INT16 -> {
                short[] a = new short[n];
                MemorySegment.copy(seg, U16, pos, a, 0, n);
                pos += 2L * n;
                yield a;
            }
            case UINT32, INT32 -> {
                int[] a = new int[n];
                MemorySegment.copy(seg, U32, pos, a, 0, n);
                pos += 4L * n;
                yield a;
            }
            case UINT64, INT64 -> {
                long[] a = new long[n];
                MemorySegment.copy(seg, U64, pos, a, 0, n);
                pos += 8L * n;
                yield a;
            }
            case FLOAT32 -> {
                float[] a = new float[n];
                MemorySegment.copy(seg, F32, pos, a, 0, n);
                pos += 4L * n;
                yield a;
            }
            case FLOAT64 -> {
                double[] a = new double[n];
                MemorySegment.copy(seg, F64, pos, a, 0, n);
                pos += 8L * n;
                yield a;
            }
            case BOOL -> {
                boolean[] a = new boolean[n];
                for (int i = 0; i < n; i++) {
                    a[i] = bool(field + "[" + i + "]");
                }
                yield a;
            }
            case STRING -> {
                String[] a = new String[n];
                for (int i = 0; i < n; i++) {
                    a[i] = string(field + "[" + i + "]");
                }
                yield a;
            }
            case ARRAY -> {
                GgufValue[] a = new GgufValue[n];
                for (int i = 0; i < n; i++) {
                    a[i] = arrayValue(field + "[" + i + "]", depth + 1);
                }
                yield a;
            }
        };
        return new GgufValue(GgufValueType.ARRAY, et, array);
    }

    private Object scalar(String field, GgufValueType type) {
        return switch (type) {
            case UINT8 -> (long) (u8(field) & 0xFF);
            case INT8 -> (long) u8(field);
            case UINT16 -> (long) (u16(field) & 0xFFFF);
            case INT16 -> (long) u16(field);
            case UINT32 -> u32(field) & 0xFFFF_FFFFL;
            case INT32 -> (long) u32(field);
            case UINT64, INT64 -> u64(field);
            case FLOAT32 -> {
                need(field, 4);
                float f = seg.get(F32, pos);
                pos += 4;
                yield f;
            }
            case FLOAT64 -> {
                need(field, 8);
                double d = seg.get(F64, pos);
                pos += 8;
                yield d;
            }
            case BOOL -> bool(field);
            case STRING -> string(field);
            case ARRAY -> throw new IllegalStateException("arrays are handled by value()");
        };
    }

    private boolean bool(String field) {
        long at = pos;
        byte b = u8(field);
        if (b != 0 && b != 1) {
            throw error(field, at, "boolean must be 0 or 1, got " + (b & 0xFF));
        }
        return b == 1;
    }

    private String string(String field) {
        long at = pos;
        long len = u64(field + ".length");
        if (len < 0 || len > MAX_STRING_BYTES) {
            throw error(field + ".length", at, "string length " + Long.toUnsignedString(len) + " exceeds the limit " + MAX_STRING_BYTES);
        }
        need(field, len);
        charge(field, at, 48 + len);
        if (len == 0) {
            return "";
        }
        byte[] bytes = new byte[(int) len];
        MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, pos, bytes, 0, (int) len);
        pos += len;
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private byte u8(String field) {
        need(field, 1);
        return seg.get(ValueLayout.JAVA_BYTE, pos++);
    }

    private short u16(String field) {
        need(field, 2);
        short v = seg.get(U16, pos);
        pos += 2;
        return v;
    }

    private int u32(String field) {
        need(field, 4);
        int v = seg.get(U32, pos);
        pos += 4;
        return v;
    }

    private long u64(String field) {
        need(field, 8);
        long v = seg.get(U64, pos);
        pos += 8;
        return v;
    }

    private void need(String field, long bytes) {
        if (bytes > size - pos) {
            throw error(field, pos, "file is truncated: needs " + bytes + " bytes but only " + (size - pos) + " remain");
        }
    }

    /** Rejects counts whose smallest possible encoding would not fit in the rest of the file. */
    private void checkCount(String field, long at, long count, int minBytesEach) {
        if (count < 0 || (minBytesEach > 0 && count > (size - pos) / minBytesEach)) {
            throw error(field, at, "count " + Long.toUnsignedString(count) + " cannot fit in the "
                    + (size - pos) + " bytes that remain");
        }
    }

    /** Heap bytes of one array element, beyond what is charged when the element itself is read. */
    private static int heapSize(GgufValueType et) {
        return switch (et) {
            case STRING -> 8; // the reference; the String is charged by string()
            case ARRAY -> 8 + 48; // reference and GgufValue record
            case BOOL -> 1;
            default -> et.size();
        };
    }

    /** Accounts for heap about to be allocated; fails before the allocation would exhaust the heap. */
    private void charge(String field, long at, long bytes) {
        heapBytes += bytes;
        if (heapBytes > MAX_HEAP_BYTES || heapBytes < 0) {
            throw error(field, at, "metadata and tensor table would take more than " + (MAX_HEAP_BYTES >> 20)
                    + " MiB of heap; refusing to read further");
        }
    }

    static long align(long offset, int alignment) {
        return (offset + alignment - 1) / alignment * alignment;
    }

    private GgufFormatException error(String field, long at, String problem) {
        return new GgufFormatException(path, field, at, problem);
    }
}
