package dev.gearbx.engine.model;

import dev.gearbx.engine.gear.Gear;

/**
 * One sequence of a {@link CausalModel}: position, KV cache and the gear of the next step. Not
 * thread-safe: one thread at a time.
 */
public interface ModelSequence extends AutoCloseable {

    /** Runs one token at the current position and returns the logits (vocab; valid until the next call). */
    float[] forward(int token);

    /** Like {@link #forward} but the logits may be skipped (prompt tokens whose logits nobody reads). */
    void ingest(int token);

    /** Sets the gear of the next forward step. */
    void shift(Gear gear);

    /** Number of tokens already in the KV cache (the position of the next token). */
    int position();

    /** Most tokens the sequence can hold. */
    int capacity();

    /** Steps back {@code n} positions so they are computed again. */
    void rewind(int n);

    /** Bytes of KV cache the sequence holds. */
    long kvCacheBytes();

    /** Releases the KV cache (a no-op where the garbage collector does it). */
    @Override
    default void close() {}
}
