package dev.gearbx.reactive.spi;

import dev.gearbx.engine.generate.GenerationRequest;
import dev.gearbx.reactive.chat.ChatMessage;
import java.util.List;

/**
 * A model prepared by a backend. Its weights are shared by every sequence; each sequence has its
 * own state (KV cache, position, gear). Thread-safe; {@link #start} may be called from any thread.
 */
public interface LoadedModel extends AutoCloseable {

    /** Most positions a sequence may hold (prompt and generated tokens together). */
    int contextLength();

    int vocabularySize();

    /** The model file's metadata (chat template, special tokens, architecture); empty for a remote model. */
    dev.gearbx.engine.gguf.GgufMetadata metadata();

    /** A short description of how a decode step runs, e.g. {@code LlamaModel forward on Vector API kernels}. */
    String forwardDescription();

    /**
     * Starts a sequence; allocates its KV cache.
     *
     * @throws dev.gearbx.engine.model.ContextOverflowException if the prompt does not fit the context
     */
    Sequence start(GenerationRequest request);

    /**
     * Whether conversations go to the backend as messages ({@link #startChat}), as with a remote
     * OpenAI-compatible server; false (the default) means the caller renders the model's chat
     * template from {@link #metadata()} and calls {@link #start}.
     */
    default boolean takesChatMessages() {
        return false;
    }

    /**
     * Starts a sequence answering a conversation; only for models that {@link #takesChatMessages()}.
     *
     * @param settings budget, sampling and routing; its prompt is the last message's content
     */
    default Sequence startChat(List<ChatMessage> messages, GenerationRequest settings) {
        throw new UnsupportedOperationException("this model takes a rendered prompt: render its chat template and call start");
    }

    /** Releases the weights; no sequence may run afterwards. */
    @Override
    void close();
}
