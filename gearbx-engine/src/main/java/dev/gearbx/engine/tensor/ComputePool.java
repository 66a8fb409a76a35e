package dev.gearbx.engine.tensor;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;

/**
 * Fixed pool of platform daemon threads for data-parallel loops, built for many tiny dispatches per second.
 *
 * <p>A dispatch splits {@code [0, total)} into {@link #PIECES_PER_THREAD} contiguous pieces per thread; the calling
 * thread and the workers claim pieces from one atomic counter until none is left, so a worker the OS has not
 * scheduled yet (a busy machine) delays nothing: the caller simply runs more pieces itself, and waits only for
 * pieces already being run. Workers spin (then park) on an epoch counter, so a dispatch costs about a cache-line
 * round trip when they are warm. Dispatches from several threads are serialized by a
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
    /** Pieces per thread: enough for the caller to absorb a late worker's share, few enough to keep pieces large. */
    static final int PIECES_PER_THREAD = 4;

    private final int threads;
    private final Worker[] workers;
    private final long spinNanos;
    private final ReentrantLock dispatchLock = new ReentrantLock();
    /** Pieces finished in the current dispatch. */
    private final AtomicInteger done = new AtomicInteger();
    /** Dispatch number (high 32 bits) and next unclaimed piece (low 32 bits): a claim names its dispatch. */
    private final AtomicLong claims = new AtomicLong();

    // Task fields: written by the dispatcher before it resets `claims`, read by a thread after it read `claims`.
    private @Nullable RangeBody body;
    private int total;
    private int pieces;
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
            this.pieces = Math.min(total, threads * PIECES_PER_THREAD);
            this.failure = null;
            done.set(0);
            long dispatch = (claims.get() >>> 32) + 1;
            claims.set(dispatch << 32); // publishes body/total/pieces to whoever reads this dispatch's claims
            epoch = epoch + 1; // wakes the workers
            for (Worker w : workers) {
                if (w.parked) {
                    LockSupport.unpark(w);
                }
            }
            Throwable own = null;
            try {
                runPieces(dispatch);
            } catch (Throwable t) {
                own = t;
            }
            awaitPieces();
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

    /**
     * Claims and runs pieces of dispatch {@code dispatch} until none is left (or the dispatch is over). Piece k
     * covers {@code [k*total/pieces, (k+1)*total/pieces)}. A failing piece still counts as done, so nobody waits
     * forever; the first failure is reported by the dispatcher.
     */
    private void runPieces(long dispatch) {
        while (true) {
            long c = claims.get();
            if (c >>> 32 != dispatch) {
                return; // a later dispatch: this one is over
            }
            RangeBody b = body;
            int n = pieces;
            int piece = (int) c;
            if (piece >= n || b == null) {
                return;
            }
            if (!claims.compareAndSet(c, c + 1)) {
                continue;
            }
            int t = total;
            try {
                b.run((int) ((long) piece * t / n), (int) ((long) (piece + 1) * t / n));
            } catch (Throwable e) {
                if (failure == null) {
                    failure = e;
                }
            } finally {
                if (done.incrementAndGet() == n) {
                    Thread w = waiter;
                    if (w != null) {
                        LockSupport.unpark(w);
                    }
                }
            }
        }
    }

    /** Waits until every piece of the current dispatch is done (all were claimed when the caller ran out). */
    private void awaitPieces() {
        int n = pieces;
        if (done.get() == n) {
            return;
        }
        long deadline = System.nanoTime() + spinNanos;
        int spins = 0;
        while (done.get() != n) {
            if ((++spins & 0xff) == 0 && System.nanoTime() - deadline > 0) {
                waiter = Thread.currentThread();
                while (done.get() != n) {
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
                // join whatever dispatch is current; a late wake-up finds its pieces claimed and goes back to waiting
                runPieces(claims.get() >>> 32);
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
