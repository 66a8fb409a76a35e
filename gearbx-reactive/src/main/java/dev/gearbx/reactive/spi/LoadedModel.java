package dev.gearbx.reactive.spi;

import dev.gearbx.engine.generate.GenerationRequest;

/**
 * A model prepared by a backend. Its weights are shared by every sequence; each sequence has its
 * own state (KV cache, position, gear). Thread-safe; {@link #start} may be called from any thread.
 */
public interface LoadedModel extends AutoCloseable {

    /** Most positions a sequence may hold (prompt and generated tokens together). */
    int contextLength();

    int vocabularySize();

    /** The model file's metadata (chat template, special tokens, architecture). */
    dev.gearbx.engine.gguf.GgufMetadata metadata();

    /** A short description of how a decode step runs, e.g. {@code LlamaModel forward on Vector API kernels}. */
    String forwardDescription();

    /**
     * Starts a sequence; allocates its KV cache.
     *
     * @throws dev.gearbx.engine.model.ContextOverflowException if the prompt does not fit the context
     */
    Sequence start(GenerationRequest request);

    /** Releases the weights; no sequence may run afterwards. */
    @Override
    void close();
}
