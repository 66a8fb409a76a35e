package dev.gearbx.engine.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class ComputePoolTest {
    @Test
    void everyIndexRunsExactlyOnce() {
        for (int threads : new int[] {1, 2, 3, 5}) {
            try (ComputePool pool = new ComputePool(threads)) {
                for (int total : new int[] {0, 1, 2, 3, 4, 5, 7, 64, 1000, 4097}) {
                    AtomicIntegerArray hits = new AtomicIntegerArray(Math.max(total, 1));
                    for (int rep = 0; rep < 20; rep++) {
                        pool.parallelFor(total, (from, to) -> {
                            for (int i = from; i < to; i++) {
                                hits.incrementAndGet(i);
                            }
                        });
                    }
                    for (int i = 0; i < total; i++) {
                        assertEquals(20, hits.get(i), "threads=" + threads + " total=" + total + " i=" + i);
                    }
                }
            }
        }
    }

    @Test
    void usesSeveralThreadsAndSurvivesParking() throws InterruptedException {
        try (ComputePool pool = new ComputePool(2, 1_000)) { // 1 µs spin: workers park between dispatches
            // pieces are claimed, not assigned: a worker takes some whenever it is awake while the caller still works
            int byWorker = 0;
            for (int rep = 0; rep < 200; rep++) {
                Thread[] seen = new Thread[8];
                pool.parallelFor(8, (from, to) -> {
                    seen[from] = Thread.currentThread();
                    long end = System.nanoTime() + 200_000; // 0.2 ms of work per piece
                    while (System.nanoTime() < end) {
                        Thread.onSpinWait();
                    }
                });
                for (Thread t : seen) {
                    assertTrue(t == Thread.currentThread() || t.getName().startsWith("gearbx-compute-"), t.getName());
                    byWorker += t == Thread.currentThread() ? 0 : 1;
                }
                if (rep % 50 == 0) {
                    Thread.sleep(5);
                }
            }
            assertTrue(byWorker > 0, "no piece ran on the worker in 200 dispatches");
        }
    }

    @Test
    void workerFailureReachesCaller() {
        try (ComputePool pool = new ComputePool(2)) {
            var e = assertThrows(IllegalStateException.class, () -> pool.parallelFor(10, (from, to) -> {
                if (from > 0) {
                    throw new IllegalStateException("chunk " + from);
                }
            }));
            assertTrue(e.getMessage().startsWith("chunk "), e.getMessage());
            java.util.concurrent.atomic.AtomicInteger covered = new java.util.concurrent.atomic.AtomicInteger();
            pool.parallelFor(10, (from, to) -> covered.addAndGet(to - from));
            assertEquals(10, covered.get(), "the pool still works after a failure");
        }
    }

    @Test
    void nestedDispatchRunsInlineWithoutDeadlock() {
        try (ComputePool pool = new ComputePool(2)) {
            AtomicIntegerArray hits = new AtomicIntegerArray(100);
            pool.parallelFor(10, (from, to) -> {
                for (int i = from; i < to; i++) {
                    int outer = i;
                    pool.parallelFor(10, (f2, t2) -> {
                        for (int j = f2; j < t2; j++) {
                            hits.incrementAndGet(outer * 10 + j);
                        }
                    });
                }
            });
            for (int i = 0; i < 100; i++) {
                assertEquals(1, hits.get(i));
            }
        }
    }

    @Test
    void threadCountProperty() {
        String old = System.getProperty("gearbx.threads");
        try {
            System.clearProperty("gearbx.threads");
            assertEquals(Runtime.getRuntime().availableProcessors(), ComputePool.configuredThreads());
            System.setProperty("gearbx.threads", "3");
            assertEquals(3, ComputePool.configuredThreads());
            System.setProperty("gearbx.threads", "0");
            var e = assertThrows(IllegalArgumentException.class, ComputePool::configuredThreads);
            assertTrue(e.getMessage().contains("0"), e.getMessage());
            System.setProperty("gearbx.threads", "two");
            var f = assertThrows(IllegalArgumentException.class, ComputePool::configuredThreads);
            assertTrue(f.getMessage().contains("two"), f.getMessage());
        } finally {
            if (old == null) {
                System.clearProperty("gearbx.threads");
            } else {
                System.setProperty("gearbx.threads", old);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> new ComputePool(0));
    }
}
