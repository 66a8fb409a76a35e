package dev.gearbx.examples.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** Measures read bandwidth: threads summing disjoint parts of a large off-heap buffer with the Vector API. */
final class MemoryBandwidth {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private MemoryBandwidth() {}

    /** Median GB/s (1e9 bytes) over {@code repetitions} full reads of a {@code bytes}-byte buffer. */
    static double measure(int threads, long bytes, int repetitions) throws Exception {
        try (Arena arena = Arena.ofShared(); ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            MemorySegment buf = arena.allocate(bytes, 64);
            buf.fill((byte) 1);
            long part = bytes / threads / S.vectorByteSize() * S.vectorByteSize();
            double[] gbs = new double[repetitions];
            for (int r = 0; r < repetitions + 2; r++) {
                List<Callable<Float>> tasks = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    long start = t * part;
                    tasks.add(() -> sum(buf, start, part));
                }
                long t0 = System.nanoTime();
                float sink = 0;
                for (Future<Float> f : pool.invokeAll(tasks)) {
                    sink += f.get();
                }
                long dt = System.nanoTime() - t0;
                if (sink == 42) {
                    throw new IllegalStateException("unreachable: keeps the sum alive");
                }
                if (r >= 2) {
                    gbs[r - 2] = part * threads / (double) dt;
                }
            }
            Arrays.sort(gbs);
            return gbs[repetitions / 2];
        }
    }

    private static float sum(MemorySegment seg, long start, long length) {
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = FloatVector.zero(S);
        FloatVector a2 = FloatVector.zero(S);
        FloatVector a3 = FloatVector.zero(S);
        int step = S.vectorByteSize();
        long end = start + length - 4L * step;
        long i = start;
        for (; i <= end; i += 4L * step) {
            a0 = a0.add(FloatVector.fromMemorySegment(S, seg, i, ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(FloatVector.fromMemorySegment(S, seg, i + step, ByteOrder.LITTLE_ENDIAN));
            a2 = a2.add(FloatVector.fromMemorySegment(S, seg, i + 2L * step, ByteOrder.LITTLE_ENDIAN));
            a3 = a3.add(FloatVector.fromMemorySegment(S, seg, i + 3L * step, ByteOrder.LITTLE_ENDIAN));
        }
        return a0.add(a1).add(a2).add(a3).reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }
}
