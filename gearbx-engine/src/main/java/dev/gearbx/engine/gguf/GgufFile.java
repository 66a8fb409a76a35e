package dev.gearbx.engine.gguf;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An open GGUF file: its metadata, its tensor table and the tensor data, memory-mapped read-only
 * with {@code java.lang.foreign} (files over 2 GiB work). Tensor data is never copied; {@link
 * #tensorData} returns slices of the mapping. Closing unmaps the file; slices must not be used
 * afterwards. Safe to read from several threads.
 *
 * <pre>{@code
 * try (GgufFile gguf = GgufFile.open(Path.of("stories260K.gguf"))) {
 *     int dim = gguf.metadata().getInt("llama.embedding_length");
 *     MemorySegment wq = gguf.tensorData(gguf.tensor("blk.0.attn_q.weight"));
 * }
 * }</pre>
 */
public final class GgufFile implements TensorFile {
    /** "GGUF" read as a little-endian uint32. */
    public static final int MAGIC = 0x46554747;
    public static final int DEFAULT_ALIGNMENT = 32;

    private final Path path;
    private final Arena arena;
    private final MemorySegment mapping;
    private final int version;
    private final GgufMetadata metadata;
    private final Map<String, GgufTensorInfo> tensors;
    private final long dataOffset;
    private final int alignment;

    GgufFile(Path path, Arena arena, MemorySegment mapping, int version, GgufMetadata metadata,
            List<GgufTensorInfo> tensors, long dataOffset, int alignment) {
        this.path = path;
        this.arena = arena;
        this.mapping = mapping;
        this.version = version;
        this.metadata = metadata;
        Map<String, GgufTensorInfo> byName = new LinkedHashMap<>();
        for (GgufTensorInfo t : tensors) {
            byName.put(t.name(), t);
        }
        this.tensors = Collections.unmodifiableMap(byName);
        this.dataOffset = dataOffset;
        this.alignment = alignment;
    }

    /**
     * Opens and validates a GGUF file (version 2 or 3).
     *
     * @throws GgufFormatException if the file is malformed, naming the field and the offset
     * @throws UncheckedIOException if the file cannot be read
     */
    public static GgufFile open(Path path) {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment mapping = ch.size() == 0
                    ? MemorySegment.ofArray(new byte[0]) // mapping 0 bytes fails; reinterpret is restricted
                    : ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            return GgufReader.read(path, arena, mapping);
        } catch (IOException e) {
            arena.close();
            throw new UncheckedIOException("cannot read GGUF file " + path, e);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    @Override
    public Path path() {
        return path;
    }

    /** GGUF version (2 or 3). */
    public int version() {
        return version;
    }

    @Override
    public GgufMetadata metadata() {
        return metadata;
    }

    /** Tensors in file order. */
    @Override
    public List<GgufTensorInfo> tensors() {
        return List.copyOf(tensors.values());
    }

    @Override
    public Optional<GgufTensorInfo> findTensor(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    /** @throws GgufMetadataException naming the tensor when the file has none of that name */
    public GgufTensorInfo tensor(String name) {
        GgufTensorInfo t = tensors.get(name);
        if (t == null) {
            throw new GgufMetadataException(name, "tensor not found in " + path);
        }
        return t;
    }

    /** A read-only slice of the mapping holding the tensor's data. */
    @Override
    public MemorySegment tensorData(GgufTensorInfo tensor) {
        return mapping.asSlice(dataOffset + tensor.offset(), tensor.byteSize()).asReadOnly();
    }

    /** Absolute file offset where the tensor data section starts. */
    public long dataOffset() {
        return dataOffset;
    }

    /** {@code general.alignment}, or 32 when absent. */
    public int alignment() {
        return alignment;
    }

    /** Size of the file in bytes. */
    @Override
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
