package dev.gearbx.engine.tensor;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;

/**
 * Fixed pool of platform daemon threads for data-parallel loops, built for many tiny dispatches per second.
 *
 * <p>A dispatch splits {@code [0, total)} into one contiguous chunk per thread; the calling thread runs chunk 0
 * and {@code threads - 1} workers run the rest. Workers spin (then park) on an epoch counter, so a dispatch
 * costs about a cache-line round trip when they are warm. Dispatches from several threads are serialized by a
 * lock; a dispatch from inside a running chunk (or from a worker) runs inline on the caller, so nothing can
 * deadlock.
 */
final class ComputePool implements AutoCloseable {
    /** Body of a parallel loop: process indices {@code [from, to)}. */
    @FunctionalInterface
    interface RangeBody {
        void run(int from, int to);
    }

    private static final long DEFAULT_SPIN_NANOS = TimeUnit.MICROSECONDS.toNanos(200);

    private final int threads;
    private final Worker[] workers;
    private final long spinNanos;
    private final ReentrantLock dispatchLock = new ReentrantLock();
    private final AtomicInteger remaining = new AtomicInteger();

    // Task fields: written by the dispatcher before the volatile epoch write, read by workers after reading it.
    private @Nullable RangeBody body;
    private int total;
    private volatile long epoch;
    private volatile boolean closed;
    private volatile @Nullable Thread waiter;
    private volatile @Nullable Throwable failure;

    ComputePool(int threads) {
        this(threads, DEFAULT_SPIN_NANOS);
    }

    ComputePool(int threads, long spinNanos) {
        if (threads < 1) {
            throw new IllegalArgumentException("compute pool needs at least 1 thread, got " + threads);
        }
        this.threads = threads;
        this.spinNanos = spinNanos;
        this.workers = new Worker[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(i + 1);
            workers[i].start();
        }
    }

    /** Thread count from system property {@code gearbx.threads}, default {@link Runtime#availableProcessors()}. */
    static int configuredThreads() {
        String value = System.getProperty("gearbx.threads");
        if (value == null || value.isBlank()) {
            return Runtime.getRuntime().availableProcessors();
        }
        int n;
        try {
            n = Integer.parseInt(value.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("system property gearbx.threads must be an integer, got '" + value + "'");
        }
        if (n < 1) {
            throw new IllegalArgumentException("system property gearbx.threads must be >= 1, got " + n);
        }
        return n;
    }

    int threads() {
        return threads;
    }

    /** Whether the workers may read {@code segment} (a confined segment is readable only by its owner). */
    boolean accessible(MemorySegment segment) {
        return workers.length == 0 || segment.isAccessibleBy(workers[0]);
    }

    /** Runs {@code body} over {@code [0, total)} split across all threads; returns when every chunk is done. */
    void parallelFor(int total, RangeBody body) {
        if (total <= 0) {
            return;
        }
        if (workers.length == 0 || total < threads || closed || Thread.currentThread() instanceof Worker
                || dispatchLock.isHeldByCurrentThread()) {
            body.run(0, total);
            return;
        }
        dispatchLock.lock();
        try {
            this.body = body;
            this.total = total;
            this.failure = null;
            remaining.set(workers.length);
            epoch = epoch + 1; // publishes body/total to the workers
            for (Worker w : workers) {
                if (w.parked) {
                    LockSupport.unpark(w);
                }
            }
            Throwable own = null;
            try {
                body.run(0, chunkEnd(0));
            } catch (Throwable t) {
                own = t;
            }
            awaitWorkers();
            this.body = null;
            Throwable err = own != null ? own : failure;
            if (err != null) {
                failure = null;
                if (err instanceof RuntimeException re) {
                    throw re;
                }
                if (err instanceof Error e) {
                    throw e;
                }
                throw new IllegalStateException("compute task failed", err);
            }
        } finally {
            dispatchLock.unlock();
        }
    }

    private int chunkEnd(int chunk) {
        // Balanced split: chunk k covers [k*total/threads, (k+1)*total/threads).
        return (int) ((long) (chunk + 1) * total / threads);
    }

    private void awaitWorkers() {
        if (remaining.get() == 0) {
            return;
        }
        long deadline = System.nanoTime() + spinNanos;
        int spins = 0;
        while (remaining.get() != 0) {
            if ((++spins & 0xff) == 0 && System.nanoTime() - deadline > 0) {
                waiter = Thread.currentThread();
                while (remaining.get() != 0) {
                    LockSupport.park(this);
                }
                waiter = null;
                return;
            }
            Thread.onSpinWait();
        }
    }

    /** Stops the workers (for pools made by tests and benchmarks; the shared pool lives for the JVM). */
    @Override
    public void close() {
        dispatchLock.lock();
        try {
            closed = true;
            epoch = epoch + 1;
            for (Worker w : workers) {
                LockSupport.unpark(w);
            }
        } finally {
            dispatchLock.unlock();
        }
    }

    private final class Worker extends Thread {
        private final int chunk;
        volatile boolean parked;

        Worker(int chunk) {
            super("gearbx-compute-" + chunk);
            this.chunk = chunk;
            setDaemon(true);
        }

        @Override
        public void run() {
            // Epoch 0 is "no task yet"; reading the field here instead could skip a dispatch made before we started.
            long seen = 0;
            while (true) {
                long e = awaitEpoch(seen);
                seen = e;
                if (closed) {
                    return;
                }
                RangeBody b = body;
                try {
                    if (b != null) {
                        int from = (int) ((long) chunk * total / threads);
                        b.run(from, chunkEnd(chunk));
                    }
                } catch (Throwable t) {
                    if (failure == null) {
                        failure = t;
                    }
                }
                if (remaining.decrementAndGet() == 0) {
                    Thread w = waiter;
                    if (w != null) {
                        LockSupport.unpark(w);
                    }
                }
            }
        }

        private long awaitEpoch(long seen) {
            long e = epoch;
            if (e != seen) {
                return e;
            }
            long deadline = System.nanoTime() + spinNanos;
            int spins = 0;
            while ((e = epoch) == seen) {
                if ((++spins & 0xff) == 0 && System.nanoTime() - deadline > 0) {
                    // Announce the park, then re-check: the dispatcher bumps the epoch before reading `parked`.
                    parked = true;
                    while ((e = epoch) == seen) {
                        LockSupport.park(ComputePool.this);
                    }
                    parked = false;
                    return e;
                }
                Thread.onSpinWait();
            }
            return e;
        }
    }
}
