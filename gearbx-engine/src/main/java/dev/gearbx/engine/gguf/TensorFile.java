package dev.gearbx.engine.gguf;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A model's metadata and tensors under GGUF's keys and tensor names, whatever the files: a {@link
 * GgufFile}, or a Hugging Face folder ({@code dev.gearbx.engine.hf.HfModelFolder}) translated to
 * them. Tensor shapes are in ggml order ({@code [cols, rows]}); data are read-only slices of
 * memory mappings, valid until {@link #close()}.
 *
 * <pre>{@code
 * try (TensorFile f = GgufFile.open(Path.of("stories260K.gguf"))) {
 *     int dim = f.metadata().getInt("llama.embedding_length");
 *     MemorySegment wq = f.tensorData(f.findTensor("blk.0.attn_q.weight").orElseThrow());
 * }
 * }</pre>
 */
public interface TensorFile extends AutoCloseable {

    /** The file or folder the model was read from. */
    Path path();

    /** Metadata under GGUF keys ({@code general.architecture}, {@code tokenizer.ggml.tokens}, ...). */
    GgufMetadata metadata();

    /** Tensors under GGUF names. */
    List<GgufTensorInfo> tensors();

    Optional<GgufTensorInfo> findTensor(String name);

    /** A read-only view of a tensor's data. */
    MemorySegment tensorData(GgufTensorInfo tensor);

    /** Bytes of the model's files. */
    long fileSize();

    /**
     * Whether the query and key projections are in Hugging Face's layout, whose RoPE rotates the two
     * halves of each head ({@code rotate_half}, llama.cpp's NEOX pairing), rather than in the
     * row-permuted layout llama.cpp's converter writes for the {@code llama} architecture
     * (interleaved pairs). False for GGUF files.
     */
    default boolean halfRotationLayout() {
        return false;
    }

    /** Releases the mappings. */
    @Override
    void close();
}
