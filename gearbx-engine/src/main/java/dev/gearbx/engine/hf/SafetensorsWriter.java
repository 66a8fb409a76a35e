package dev.gearbx.engine.hf;

import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Writes safetensors files: tensors in the order added, data 8-byte aligned (the header is padded
 * with spaces), produced straight into a memory mapping of the output file. The file appears
 * atomically (written to a temporary file, then moved). Not thread-safe.
 *
 * <pre>{@code
 * new SafetensorsWriter()
 *     .tensor("model.norm.weight", SafetensorsDType.F32, new long[] {64}, target -> fill(target))
 *     .write(Path.of("model.safetensors"));
 * }</pre>
 */
public final class SafetensorsWriter {

    /** Fills a tensor's bytes; {@code target} is exactly the tensor's byte size, little-endian. */
    @FunctionalInterface
    public interface TensorData {
        void fill(MemorySegment target);
    }

    private record Pending(String name, SafetensorsDType dtype, long[] shape, long byteSize, TensorData data) {}

    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final List<Pending> tensors = new ArrayList<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();

    /** Adds a {@code __metadata__} entry. */
    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
        return this;
    }

    /**
     * Adds a tensor.
     *
     * @param shape row-major dimensions ({@code [rows, cols]} for a matrix)
     * @throws IllegalArgumentException for a duplicate name or a negative dimension, naming the tensor
     */
    public SafetensorsWriter tensor(String name, SafetensorsDType dtype, long[] shape, TensorData data) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        if (name.equals("__metadata__") || tensors.stream().anyMatch(t -> t.name.equals(name))) {
            throw new IllegalArgumentException("duplicate or reserved tensor name '" + name + "'");
        }
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor '" + name + "' has a negative dimension " + d);
            }
            n = Math.multiplyExact(n, d);
        }
        tensors.add(new Pending(name, dtype, shape.clone(), Math.multiplyExact(n, dtype.byteSize()), data));
        return this;
    }

    /** Adds a tensor from its raw little-endian bytes. */
    public SafetensorsWriter tensor(String name, SafetensorsDType dtype, long[] shape, MemorySegment raw) {
        return tensor(name, dtype, shape, target -> {
            if (raw.byteSize() != target.byteSize()) {
                throw new IllegalArgumentException("tensor '" + name + "': " + raw.byteSize() + " bytes given but "
                        + dtype + " " + Arrays.toString(shape) + " takes " + target.byteSize());
            }
            target.copyFrom(raw);
        });
    }

    /** Writes the file. */
    public void write(Path path) {
        ObjectNode header = JsonMapper.builder().build().createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode md = header.putObject("__metadata__");
            metadata.forEach(md::put);
        }
        long offset = 0;
        long[] begins = new long[tensors.size()];
        for (int i = 0; i < tensors.size(); i++) {
            Pending t = tensors.get(i);
            ObjectNode e = header.putObject(t.name);
            e.put("dtype", t.dtype.name());
            var shape = e.putArray("shape");
            for (long d : t.shape) {
                shape.add(d);
            }
            begins[i] = offset;
            e.putArray("data_offsets").add(offset).add(offset + t.byteSize);
            offset += t.byteSize;
        }
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] headerBytes = Arrays.copyOf(json, padded);
        Arrays.fill(headerBytes, json.length, padded, (byte) ' ');
        long dataStart = 8L + padded;
        long total = dataStart + offset;
        Path tmp = path.resolveSibling(path.getFileName() + ".tmp");
        try (Arena arena = Arena.ofConfined();
                FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                        StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            MemorySegment out = ch.map(FileChannel.MapMode.READ_WRITE, 0, total, arena);
            out.set(U64, 0, padded);
            MemorySegment.copy(headerBytes, 0, out, ValueLayout.JAVA_BYTE, 8, padded);
            for (int i = 0; i < tensors.size(); i++) {
                Pending t = tensors.get(i);
                if (t.byteSize > 0) {
                    t.data.fill(out.asSlice(dataStart + begins[i], t.byteSize));
                }
            }
            out.force();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write safetensors file " + path, e);
        }
        try {
            Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot move " + tmp + " to " + path, e);
        }
    }
}
