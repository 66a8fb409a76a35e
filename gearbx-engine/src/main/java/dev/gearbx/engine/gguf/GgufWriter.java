package dev.gearbx.engine.gguf;

import dev.gearbx.engine.tensor.Quantization;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Writes GGUF files (version 3 by default): metadata, tensor table and tensor data. Tensor data is
 * produced straight into a memory mapping of the output file, so multi-gigabyte synthetic models
 * are written without holding them on the heap. The file appears atomically (written to a
 * temporary file, then moved).
 *
 * <pre>{@code
 * new GgufWriter()
 *     .put("general.architecture", GgufValue.ofString("llama"))
 *     .tensor("output_norm.weight", GgmlType.F32, new long[] {64}, new float[64])
 *     .tensor("token_embd.weight", GgmlType.F16, new long[] {64, 512}, target -> fillRandom(target))
 *     .write(Path.of("model.gguf"));
 * }</pre>
 *
 * <p>Not thread-safe; a writer may be written more than once.
 */
public final class GgufWriter {

    /** Fills a tensor's bytes; {@code target} is exactly the tensor's byte size, little-endian. */
    @FunctionalInterface
    public interface TensorData {
        void fill(MemorySegment target);
    }

    private record PendingTensor(String name, GgmlType type, long[] shape, TensorData data) {}


    private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    private final List<PendingTensor> tensors = new ArrayList<>();
    private int version = 3;

    /** GGUF version to write: 2 or 3 (the same layout; 3 is what current llama.cpp writes). */
    public GgufWriter version(int version) {
        if (version != 2 && version != 3) {
            throw new IllegalArgumentException("version must be 2 or 3, got " + version);
        }
        this.version = version;
        return this;
    }

    /** Adds or replaces a metadata entry (kept in insertion order). */
    public GgufWriter put(String key, GgufValue value) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        metadata.put(key, value);
        return this;
    }

    /** Adds every entry of {@code other}. */
    public GgufWriter putAll(GgufMetadata other) {
        metadata.putAll(other.asMap());
        return this;
    }

    /**
     * Adds a tensor whose bytes a callback produces.
     *
     * @param shape ggml order: {@code shape[0]} is the contiguous dimension (a rows x cols matrix
     *     is {@code {cols, rows}})
     */
    public GgufWriter tensor(String name, GgmlType type, long[] shape, TensorData data) {
        Objects.requireNonNull(name, "name");
        for (PendingTensor t : tensors) {
            if (t.name.equals(name)) {
                throw new IllegalArgumentException("duplicate tensor name '" + name + "'");
            }
        }
        if (shape.length < 1 || shape.length > GgufReader.MAX_DIMS) {
            throw new IllegalArgumentException("tensor '" + name + "' must have 1.." + GgufReader.MAX_DIMS
                    + " dimensions, got " + shape.length);
        }
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor '" + name + "' has a negative dimension " + d);
            }
            n = Math.multiplyExact(n, d);
        }
        if (shape[0] % type.blockSize() != 0) {
            throw new IllegalArgumentException("tensor '" + name + "': row length " + shape[0]
                    + " is not a multiple of the " + type + " block size " + type.blockSize());
        }
        tensors.add(new PendingTensor(name, type, shape.clone(), data));
        return this;
    }

    /** Adds a tensor from float values, encoded as {@code type} by {@link Quantization#quantize} (F32, F16, BF16, Q8_0, Q4_0). */
    public GgufWriter tensor(String name, GgmlType type, long[] shape, float[] values) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        if (n != values.length) {
            throw new IllegalArgumentException("tensor '" + name + "': shape " + java.util.Arrays.toString(shape)
                    + " holds " + n + " elements but " + values.length + " values were given");
        }
        float[] copy = values.clone();
        return tensor(name, type, shape, target -> encodeFloats(type, copy, target));
    }

    /** Adds a tensor from raw bytes already in {@code type}'s encoding. */
    public GgufWriter tensor(String name, GgmlType type, long[] shape, MemorySegment raw) {
        return tensor(name, type, shape, target -> {
            if (raw.byteSize() != target.byteSize()) {
                throw new IllegalArgumentException("tensor '" + name + "': " + raw.byteSize()
                        + " bytes given but " + type + " " + java.util.Arrays.toString(shape) + " takes " + target.byteSize());
            }
            target.copyFrom(raw);
        });
    }

    /**
     * Encodes floats into {@code type}'s little-endian bytes through {@link Quantization#quantize} (F32, F16, BF16,
     * Q8_0, Q4_0); {@code target} must be exactly {@code type.byteSize(values.length)} bytes.
     *
     * @throws IllegalArgumentException naming the type if floats cannot be encoded as it
     */
    public static void encodeFloats(GgmlType type, float[] values, MemorySegment target) {
        Quantization.quantize(type, values, 0, values.length, target);
    }

    /** Rounds a float to bfloat16 (round to nearest even, NaN kept quiet). */
    public static short floatToBf16(float f) {
        return Quantization.floatToBf16(f);
    }

    /** Writes the file. */
    public void write(Path path) {
        int alignment = GgufFile.DEFAULT_ALIGNMENT;
        GgufValue al = metadata.get("general.alignment");
        if (al != null) {
            if (al.type() != GgufValueType.UINT32 || Long.bitCount((Long) al.value()) != 1
                    || (Long) al.value() > GgufReader.MAX_ALIGNMENT) {
                throw new IllegalArgumentException("general.alignment must be a UINT32 power of two up to "
                        + GgufReader.MAX_ALIGNMENT + ", got " + al);
            }
            alignment = (int) (long) (Long) al.value();
        }
        LeBuffer header = new LeBuffer();
        header.u32(GgufFile.MAGIC);
        header.u32(version);
        header.u64(tensors.size());
        header.u64(metadata.size());
        metadata.forEach((k, v) -> {
            header.string(k);
            header.value(v);
        });
        long[] offsets = new long[tensors.size()];
        long dataSize = 0;
        for (int i = 0; i < tensors.size(); i++) {
            PendingTensor t = tensors.get(i);
            offsets[i] = dataSize;
            dataSize = GgufReader.align(dataSize + t.type.byteSize(elements(t.shape)), alignment);
            header.string(t.name);
            header.u32(t.shape.length);
            for (long d : t.shape) {
                header.u64(d);
            }
            header.u32(t.type.id());
            header.u64(offsets[i]);
        }
        byte[] head = header.toByteArray();
        long dataOffset = GgufReader.align(head.length, alignment);
        long total = dataOffset + dataSize;
        Path tmp = path.resolveSibling(path.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                        StandardOpenOption.READ, StandardOpenOption.WRITE);
                Arena arena = Arena.ofShared()) {
            ch.write(ByteBuffer.wrap(new byte[] {0}), total - 1); // sets the length; the rest reads as zero
            MemorySegment out = ch.map(FileChannel.MapMode.READ_WRITE, 0, total, arena);
            MemorySegment.copy(head, 0, out, ValueLayout.JAVA_BYTE, 0, head.length);
            for (int i = 0; i < tensors.size(); i++) {
                PendingTensor t = tensors.get(i);
                long bytes = t.type.byteSize(elements(t.shape));
                t.data.fill(out.asSlice(dataOffset + offsets[i], bytes));
            }
            out.force();
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new UncheckedIOException("cannot write GGUF file " + path, e);
        } catch (RuntimeException | Error e) {
            deleteQuietly(tmp); // e.g. a TensorData callback failed: leave no half-written file behind
            throw e;
        }
        try {
            Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot move " + tmp + " to " + path, e);
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException | RuntimeException ignored) {
            // best effort; the original failure is what matters
        }
    }

    private static long elements(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** A growable little-endian byte buffer for the header. */
    private static final class LeBuffer {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream(1 << 16);
        private final ByteBuffer scratch = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);

        void u8(int v) {
            out.write(v);
        }

        void u16(int v) {
            scratch.clear();
            scratch.putShort((short) v);
            out.write(scratch.array(), 0, 2);
        }

        void u32(int v) {
            scratch.clear();
            scratch.putInt(v);
            out.write(scratch.array(), 0, 4);
        }

        void u64(long v) {
            scratch.clear();
            scratch.putLong(v);
            out.write(scratch.array(), 0, 8);
        }

        void string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            out.writeBytes(b);
        }

        void value(GgufValue v) {
            u32(v.type().id());
            if (v.type() == GgufValueType.ARRAY) {
                arrayBody(v);
            } else {
                scalar(v.type(), v.value());
            }
        }

        private void arrayBody(GgufValue v) {
            GgufValueType et = Objects.requireNonNull(v.elementType());
            u32(et.id());
            Object a = v.value();
            u64(v.length());
            switch (et) {
                case UINT8, INT8 -> out.writeBytes((byte[]) a);
                case UINT16, INT16 -> {
                    for (short s : (short[]) a) u16(s);
                }
                case UINT32, INT32 -> {
                    for (int i : (int[]) a) u32(i);
                }
                case UINT64, INT64 -> {
                    for (long l : (long[]) a) u64(l);
                }
                case FLOAT32 -> {
                    for (float f : (float[]) a) u32(Float.floatToRawIntBits(f));
                }
                case FLOAT64 -> {
                    for (double d : (double[]) a) u64(Double.doubleToRawLongBits(d));
                }
                case BOOL -> {
                    for (boolean b : (boolean[]) a) u8(b ? 1 : 0);
                }
                case STRING -> {
                    for (String s : (String[]) a) string(s);
                }
                case ARRAY -> {
                    for (GgufValue inner : (GgufValue[]) a) arrayBody(inner);
                }
            }
        }

        private void scalar(GgufValueType type, Object value) {
            switch (type) {
                case UINT8, INT8 -> u8((int) (long) (Long) value);
                case UINT16, INT16 -> u16((int) (long) (Long) value);
                case UINT32, INT32 -> u32((int) (long) (Long) value);
                case UINT64, INT64 -> u64((Long) value);
                case FLOAT32 -> u32(Float.floatToRawIntBits((Float) value));
                case FLOAT64 -> u64(Double.doubleToRawLongBits((Double) value));
                case BOOL -> u8((Boolean) value ? 1 : 0);
                case STRING -> string((String) value);
                case ARRAY -> throw new IllegalStateException("arrays are written by arrayBody");
            }
        }

        byte[] toByteArray() {
            return out.toByteArray();
        }
    }
}
