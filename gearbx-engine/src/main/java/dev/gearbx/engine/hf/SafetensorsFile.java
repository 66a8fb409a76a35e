package dev.gearbx.engine.hf;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An open safetensors file: an 8-byte little-endian header length, a JSON header naming each
 * tensor's dtype, shape and data offsets, then the data, memory-mapped read-only with {@code
 * java.lang.foreign} (tensors are slices of the mapping, never copies). Every header entry is
 * checked against the file before use: a malformed or hostile file fails with an {@link
 * HfFormatException} naming the file, the entry and the byte offset. Closing unmaps the file. Safe
 * to read from several threads.
 *
 * <pre>{@code
 * try (SafetensorsFile st = SafetensorsFile.open(Path.of("model.safetensors"))) {
 *     SafetensorsTensor t = st.tensor("model.embed_tokens.weight");
 *     MemorySegment data = st.data(t);   // t.dtype(), t.shape()
 * }
 * }</pre>
 */
public final class SafetensorsFile implements AutoCloseable {
    /** Largest header accepted (the reference implementation's limit). */
    public static final long MAX_HEADER_BYTES = 100L << 20;

    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path path;
    private final Arena arena;
    private final MemorySegment mapping;
    private final long dataOffset;
    private final Map<String, SafetensorsTensor> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, Arena arena, MemorySegment mapping, long dataOffset,
            Map<String, SafetensorsTensor> tensors, Map<String, String> metadata) {
        this.path = path;
        this.arena = arena;
        this.mapping = mapping;
        this.dataOffset = dataOffset;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /**
     * Opens and validates a safetensors file.
     *
     * @throws HfFormatException if the header is malformed, naming the entry and the offset
     * @throws UncheckedIOException if the file cannot be read
     */
    public static SafetensorsFile open(Path path) {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new HfFormatException(path, "header length", 0, "file has " + size + " bytes, fewer than the 8 of the header length");
            }
            MemorySegment mapping = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            long headerLength = mapping.get(U64, 0);
            if (headerLength < 2 || headerLength > MAX_HEADER_BYTES || headerLength > size - 8) {
                throw new HfFormatException(path, "header length", 0, "header length " + Long.toUnsignedString(headerLength)
                        + " must be in 2.." + Math.min(MAX_HEADER_BYTES, size - 8) + " (file size " + size + ")");
            }
            byte[] header = mapping.asSlice(8, headerLength).toArray(ValueLayout.JAVA_BYTE);
            long dataOffset = 8 + headerLength;
            SafetensorsFile file = parse(path, arena, mapping, header, dataOffset, size - dataOffset);
            return file;
        } catch (IOException e) {
            arena.close();
            throw new UncheckedIOException("cannot read safetensors file " + path, e);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    private static SafetensorsFile parse(Path path, Arena arena, MemorySegment mapping, byte[] header, long dataOffset,
            long dataSize) {
        JsonNode root;
        try {
            root = JSON.readTree(header);
        } catch (JacksonException e) {
            throw new HfFormatException(path, "header", 8, "not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (root == null || !root.isObject()) {
            throw new HfFormatException(path, "header", 8, "must be a JSON object");
        }
        Map<String, SafetensorsTensor> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            String name = e.getKey();
            JsonNode v = e.getValue();
            if (name.equals("__metadata__")) {
                if (!v.isObject()) {
                    throw new HfFormatException(path, "__metadata__", 8, "must be an object of strings");
                }
                for (Map.Entry<String, JsonNode> m : v.properties()) {
                    if (!m.getValue().isTextual()) {
                        throw new HfFormatException(path, "__metadata__." + m.getKey(), 8, "must be a string, got " + m.getValue());
                    }
                    metadata.put(m.getKey(), m.getValue().asText());
                }
                continue;
            }
            tensors.put(name, tensor(path, name, v, dataSize));
        }
        // no two tensors may share bytes
        List<SafetensorsTensor> byBegin = new ArrayList<>(tensors.values());
        byBegin.sort(Comparator.comparingLong(SafetensorsTensor::begin).thenComparingLong(SafetensorsTensor::end));
        for (int i = 1; i < byBegin.size(); i++) {
            SafetensorsTensor a = byBegin.get(i - 1);
            SafetensorsTensor b = byBegin.get(i);
            if (b.begin() < a.end() && b.byteSize() > 0 && a.byteSize() > 0) {
                throw new HfFormatException(path, "tensor '" + b.name() + "'.data_offsets", dataOffset + b.begin(),
                        "overlaps tensor '" + a.name() + "' (bytes " + a.begin() + ".." + a.end() + ")");
            }
        }
        return new SafetensorsFile(path, arena, mapping, dataOffset, Collections.unmodifiableMap(tensors),
                Collections.unmodifiableMap(metadata));
    }

    private static SafetensorsTensor tensor(Path path, String name, JsonNode v, long dataSize) {
        String field = "tensor '" + name + "'";
        if (!v.isObject()) {
            throw new HfFormatException(path, field, 8, "must be an object with dtype, shape and data_offsets");
        }
        JsonNode dtypeNode = v.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw new HfFormatException(path, field + ".dtype", 8, "missing or not a string");
        }
        SafetensorsDType dtype;
        try {
            dtype = SafetensorsDType.valueOf(dtypeNode.asText());
        } catch (IllegalArgumentException unknown) {
            throw new HfFormatException(path, field + ".dtype", 8, "unknown dtype '" + dtypeNode.asText() + "'");
        }
        JsonNode shapeNode = v.get("shape");
        if (shapeNode == null || !shapeNode.isArray() || shapeNode.size() > 8) {
            throw new HfFormatException(path, field + ".shape", 8, "missing or not an array of at most 8 dimensions");
        }
        long[] shape = new long[shapeNode.size()];
        long elements = 1;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong() || d.asLong() < 0) {
                throw new HfFormatException(path, field + ".shape[" + i + "]", 8, "must be a non-negative integer, got " + d);
            }
            shape[i] = d.asLong();
            try {
                elements = Math.multiplyExact(elements, shape[i]);
            } catch (ArithmeticException overflow) {
                throw new HfFormatException(path, field + ".shape", 8, "element count overflows");
            }
        }
        JsonNode offsets = v.get("data_offsets");
        if (offsets == null || !offsets.isArray() || offsets.size() != 2) {
            throw new HfFormatException(path, field + ".data_offsets", 8, "missing or not a [begin, end] pair");
        }
        for (JsonNode o : offsets) {
            if (!o.isIntegralNumber() || !o.canConvertToLong() || o.asLong() < 0) {
                throw new HfFormatException(path, field + ".data_offsets", 8, "must be non-negative integers, got " + offsets);
            }
        }
        long begin = offsets.get(0).asLong();
        long end = offsets.get(1).asLong();
        if (begin > end || end > dataSize) {
            throw new HfFormatException(path, field + ".data_offsets", 8, "[" + begin + ", " + end
                    + "] is not a range inside the " + dataSize + " data bytes");
        }
        long expected;
        try {
            expected = Math.multiplyExact(elements, dtype.byteSize());
        } catch (ArithmeticException overflow) {
            throw new HfFormatException(path, field + ".shape", 8, "byte size overflows");
        }
        if (end - begin != expected) {
            throw new HfFormatException(path, field + ".data_offsets", 8, "holds " + (end - begin) + " bytes but "
                    + dtype + " " + java.util.Arrays.toString(shape) + " takes " + expected);
        }
        return new SafetensorsTensor(name, dtype, shape, begin, end);
    }

    public Path path() {
        return path;
    }

    /** Tensors in header order. */
    public List<SafetensorsTensor> tensors() {
        return List.copyOf(tensors.values());
    }

    public Optional<SafetensorsTensor> find(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    /** @throws HfFormatException naming the tensor when the file has none of that name */
    public SafetensorsTensor tensor(String name) {
        SafetensorsTensor t = tensors.get(name);
        if (t == null) {
            throw new HfFormatException(path, "tensor '" + name + "'", "not in this file");
        }
        return t;
    }

    /** The header's {@code __metadata__} (string to string), possibly empty. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** A read-only slice of the mapping holding the tensor's data (little-endian, row-major). */
    public MemorySegment data(SafetensorsTensor tensor) {
        return mapping.asSlice(dataOffset + tensor.begin(), tensor.byteSize()).asReadOnly();
    }

    /** File offset of the data section (8 + header length). */
    public long dataOffset() {
        return dataOffset;
    }

    /** Size of the file in bytes. */
    public long fileSize() {
        return mapping.byteSize();
    }

    /** Unmaps the file. */
    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
