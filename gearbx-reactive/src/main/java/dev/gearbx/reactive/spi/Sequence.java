package dev.gearbx.reactive.spi;

import dev.gearbx.engine.generate.GeneratedToken;
import dev.gearbx.engine.generate.GenerationResult;
import java.util.Iterator;

/**
 * One running sequence, pulled token by token: each {@link #hasNext()}/{@link #next()} runs at
 * most one decode step (the first also ingests the prompt). Not thread-safe: one thread at a time.
 */
public interface Sequence extends Iterator<GeneratedToken>, AutoCloseable {

    /** The result so far; complete once {@link #hasNext()} returned false. */
    GenerationResult result();

    /** Forward passes run so far (prompt tokens included). */
    long forwardPasses();

    /** Bytes of KV cache still held: 0 after the sequence ended or was closed. */
    long kvCacheBytes();

    /** Stops the sequence and releases its KV cache. Idempotent. */
    @Override
    void close();
}
