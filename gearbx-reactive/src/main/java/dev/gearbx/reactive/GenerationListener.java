package dev.gearbx.reactive;

import org.jspecify.annotations.Nullable;

/**
 * Sees every stream of a {@link GearbxModel}, on the stream's compute thread (keep it quick, never
 * block). Used by {@link dev.gearbx.reactive.metrics.GearbxMetrics}; register with
 * {@link GearbxModel#addListener}. Exceptions thrown by a listener are logged and ignored.
 */
public interface GenerationListener {

    /** A stream received its first demand and starts its sequence. */
    default void started() {}

    /** A token was computed and is being emitted. */
    default void token(StreamChunk chunk) {}

    /** The first token of a stream, {@code nanos} after the stream started. */
    default void firstToken(long nanos) {}

    /**
     * A stream ended: completed, failed or cancelled (after {@link #started()} only).
     *
     * @param summary what was generated, or null if the sequence never started
     * @param error the error it failed with, or null
     */
    default void ended(@Nullable GenerationSummary summary, @Nullable Throwable error) {}
}
