package dev.gearbx.reactive.spi;

import dev.gearbx.engine.generate.GeneratedToken;
import dev.gearbx.engine.generate.Generation;
import dev.gearbx.engine.generate.GenerationResult;
import java.util.Iterator;

/**
 * One running sequence, pulled token by token: each {@link #hasNext()}/{@link #next()} runs at
 * most one decode step (the first also ingests the prompt). Not thread-safe: one thread at a time,
 * except {@link #whenReady}.
 *
 * <p>A sequence whose next step waits on I/O (a remote backend waiting for the server's next
 * event) says so with {@link #ready()}: the stream then gives its compute thread back instead of
 * blocking in {@link #hasNext()}, and resumes when {@link #whenReady} calls back. Local sequences
 * compute their step on the spot and keep the defaults (always ready).
 */
public interface Sequence extends Iterator<GeneratedToken>, AutoCloseable {

    /** Whether {@link #hasNext()} can answer now without blocking. */
    default boolean ready() {
        return true;
    }

    /**
     * Runs {@code wakeUp} once, on any thread, as soon as {@link #ready()} is true (at once if it is
     * already). Called after {@code ready()} answered false; a later call replaces an earlier one.
     */
    default void whenReady(Runnable wakeUp) {
        wakeUp.run();
    }

    /** The result so far; complete once {@link #hasNext()} returned false. */
    GenerationResult result();

    /** Forward passes run so far (prompt tokens included). */
    long forwardPasses();

    /** Bytes of KV cache still held: 0 after the sequence ended or was closed. */
    long kvCacheBytes();

    /** Stops the sequence and releases its KV cache. Idempotent. */
    @Override
    void close();

    /** A local sequence: the engine's generation loop (whatever {@code CausalModel} it drives), always ready. */
    static Sequence of(Generation g) {
        return new Sequence() {
            @Override
            public boolean hasNext() {
                return g.hasNext();
            }

            @Override
            public GeneratedToken next() {
                return g.next();
            }

            @Override
            public GenerationResult result() {
                return g.result();
            }

            @Override
            public long forwardPasses() {
                return g.forwardPasses();
            }

            @Override
            public long kvCacheBytes() {
                return g.kvCacheBytes();
            }

            @Override
            public void close() {
                g.close();
            }
        };
    }
}
