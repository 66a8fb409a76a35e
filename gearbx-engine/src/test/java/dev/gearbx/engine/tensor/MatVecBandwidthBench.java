package dev.gearbx.engine.tensor;

import dev.gearbx.engine.gguf.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Not a test: times {@link Kernels#matvec} on F32/F16/BF16 weights with 1 and 2 threads and prints GB/s. Each
 * shape cycles through enough copies (>= 256 MiB) that the weights come from DRAM, not the L3 cache, as in decode.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp gearbx-engine/target/classes:gearbx-engine/target/test-classes \
 *     dev.gearbx.engine.tensor.MatVecBandwidthBench</pre>
 */
public final class MatVecBandwidthBench {
    private static final int REPS = 50;
    private static final long MIN_FOOTPRINT = 256L << 20;

    private MatVecBandwidthBench() {}

    public static void main(String[] args) {
        int[][] shapes = {{2048, 8192}, {8192, 2048}};
        GgmlType[] types = {GgmlType.F32, GgmlType.F16, GgmlType.BF16};
        System.out.printf(Locale.ROOT, "species %s, %d cores%n",
                jdk.incubator.vector.FloatVector.SPECIES_PREFERRED, Runtime.getRuntime().availableProcessors());
        System.out.printf(Locale.ROOT, "%-5s %-10s %-7s %10s %10s %10s %10s%n",
                "type", "shape", "threads", "median", "min", "max", "median_ms");
        try (Arena arena = Arena.ofShared()) {
            for (int threads = 1; threads <= 2; threads++) {
                try (ComputePool pool = new ComputePool(threads)) {
                    Kernels k = new VectorKernels(pool, VectorKernels.DEFAULT_MIN_PARALLEL_ROWS,
                            VectorKernels.DEFAULT_MIN_PARALLEL_BYTES);
                    baseline(arena, pool, threads);
                    for (GgmlType type : types) {
                        for (int[] shape : shapes) {
                            if (type == GgmlType.F16) {
                                // The row-at-a-time F16 kernel first, as a same-process baseline.
                                F16Matrix.rowBlocks = false;
                                bandwidth(arena, k, type, "F16/1", shape[0], shape[1], threads);
                                F16Matrix.rowBlocks = true;
                            }
                            bandwidth(arena, k, type, type.toString(), shape[0], shape[1], threads);
                        }
                    }
                    overhead(arena, pool, threads);
                }
            }
        }
    }

    private static void bandwidth(Arena arena, Kernels k, GgmlType type, String label, int rows, int cols,
            int threads) {
        long bytes = type.byteSize((long) rows * cols);
        int copies = (int) Math.max(1, (MIN_FOOTPRINT + bytes - 1) / bytes);
        WeightMatrix[] ws = new WeightMatrix[copies];
        for (int i = 0; i < copies; i++) {
            ws[i] = WeightMatrix.of(type, random(arena, type, (long) rows * cols, 42 + i), rows, cols);
        }
        float[] x = new float[cols];
        float[] out = new float[rows];
        SplittableRandom rnd = new SplittableRandom(7);
        for (int i = 0; i < cols; i++) {
            x[i] = (float) rnd.nextDouble(-1, 1);
        }
        for (int i = 0; i < 3 * copies + 20; i++) {
            k.matvec(ws[i % copies], x, out);
        }
        double[] gbs = new double[REPS];
        long[] ns = new long[REPS];
        for (int i = 0; i < REPS; i++) {
            long t0 = System.nanoTime();
            k.matvec(ws[i % copies], x, out);
            ns[i] = System.nanoTime() - t0;
            gbs[i] = (double) bytes / ns[i];
        }
        Arrays.sort(gbs);
        Arrays.sort(ns);
        System.out.printf(Locale.ROOT, "%-5s %-10s %-7d %7.1f GB/s %5.1f GB/s %5.1f GB/s %8.3f%n", label,
                rows + "x" + cols, threads, gbs[REPS / 2], gbs[0], gbs[REPS - 1], ns[REPS / 2] / 1e6);
    }

    /** Plain vector sum over the same footprint: the read bandwidth the machine gives right now. */
    private static void baseline(Arena arena, ComputePool pool, int threads) {
        long bytes = MIN_FOOTPRINT;
        MemorySegment seg = arena.allocate(bytes, 64);
        seg.fill((byte) 1);
        int blocks = (int) (bytes / 4096);
        float[] sink = new float[threads];
        for (int i = 0; i < 10; i++) {
            pool.parallelFor(blocks, (from, to) -> sink[from * threads / blocks] += sum(seg, from, to));
        }
        double[] gbs = new double[REPS / 2];
        for (int i = 0; i < gbs.length; i++) {
            long t0 = System.nanoTime();
            pool.parallelFor(blocks, (from, to) -> sink[from * threads / blocks] += sum(seg, from, to));
            gbs[i] = (double) bytes / (System.nanoTime() - t0);
        }
        Arrays.sort(gbs);
        System.out.printf(Locale.ROOT, "%-5s %-10s %-7d %7.1f GB/s %5.1f GB/s %5.1f GB/s  (%s)%n", "read", "256MiB",
                threads, gbs[gbs.length / 2], gbs[0], gbs[gbs.length - 1], sink[0] > 0 ? "sum" : "-");
    }

    /** Sum of 4 KiB blocks [from, to) of seg. */
    private static float sum(MemorySegment seg, int from, int to) {
        var f = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED;
        var a0 = jdk.incubator.vector.FloatVector.zero(f);
        var a1 = a0;
        long step = f.vectorByteSize();
        for (long o = (long) from * 4096; o < (long) to * 4096; o += 2 * step) {
            a0 = a0.add(jdk.incubator.vector.FloatVector.fromMemorySegment(f, seg, o, ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(jdk.incubator.vector.FloatVector.fromMemorySegment(f, seg, o + step, ByteOrder.LITTLE_ENDIAN));
        }
        return a0.add(a1).reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }

    /** Time per 64x64 F32 matvec: as dispatched by default (inline) and forced through the pool. */
    private static void overhead(Arena arena, ComputePool pool, int threads) {
        WeightMatrix w = WeightMatrix.of(GgmlType.F32, random(arena, GgmlType.F32, 64 * 64, 1), 64, 64);
        float[] x = new float[64];
        float[] out = new float[64];
        Arrays.fill(x, 0.5f);
        Kernels byDefault = new VectorKernels(pool, VectorKernels.DEFAULT_MIN_PARALLEL_ROWS,
                VectorKernels.DEFAULT_MIN_PARALLEL_BYTES);
        Kernels forced = new VectorKernels(pool, 0, 0);
        for (Kernels k : new Kernels[] {byDefault, forced}) {
            int batch = 2000;
            double[] us = new double[REPS];
            for (int i = 0; i < 20_000; i++) {
                k.matvec(w, x, out);
            }
            for (int r = 0; r < REPS; r++) {
                long t0 = System.nanoTime();
                for (int i = 0; i < batch; i++) {
                    k.matvec(w, x, out);
                }
                us[r] = (System.nanoTime() - t0) / 1e3 / batch;
            }
            Arrays.sort(us);
            System.out.printf(Locale.ROOT, "F32   64x64 %-8s %-7d %7.2f us   %5.2f us   %5.2f us%n",
                    k == forced ? "(pool)" : "(default)", threads, us[REPS / 2], us[0], us[REPS - 1]);
        }
    }

    private static MemorySegment random(Arena arena, GgmlType type, long n, long seed) {
        MemorySegment seg = arena.allocate(type.byteSize(n), 64);
        SplittableRandom rnd = new SplittableRandom(seed);
        ValueLayout.OfFloat f32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        ValueLayout.OfShort s16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        for (long i = 0; i < n; i++) {
            float v = (float) rnd.nextDouble(-0.1, 0.1);
            switch (type) {
                case F32 -> seg.setAtIndex(f32, i, v);
                case F16 -> seg.setAtIndex(s16, i, Float.floatToFloat16(v));
                case BF16 -> seg.setAtIndex(s16, i, (short) (Float.floatToRawIntBits(v) >>> 16));
                default -> throw new IllegalArgumentException(type.toString());
            }
        }
        return seg;
    }
}
