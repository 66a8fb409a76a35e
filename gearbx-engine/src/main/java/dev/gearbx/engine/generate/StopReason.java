package dev.gearbx.engine.generate;

/** Why a generation ended. */
public enum StopReason {
    /** The model emitted an end-of-generation token. */
    END_OF_GENERATION,
    /** The token budget was used up. */
    MAX_TOKENS,
    /** The context (KV cache) is full. */
    CONTEXT_FULL,
    /** The caller stopped it (listener returned false or the generation was closed). */
    CANCELLED
}
