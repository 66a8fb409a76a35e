package dev.gearbx.engine.tensor;

import dev.gearbx.engine.gguf.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Not a test: GB/s (weight bytes / time) of K-quant matrix-vector products: single-thread {@code dot} per row,
 * single-thread {@code dotRows} over all rows, and {@link Kernels#vector()} matvec on the shared pool. Each shape
 * cycles through enough copies (>= 160 MiB) that the weights come from DRAM, not the 35 MB L3; a last 64x4096 shape
 * (one copy, cache-resident) shows the compute-bound speed. F16 is the yardstick. Optional arguments: types to run.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp gearbx-engine/target/classes:gearbx-engine/target/test-classes \
 *     dev.gearbx.engine.tensor.KQuantMatVecBench [TYPE...]</pre>
 */
public final class KQuantMatVecBench {
    private static final int REPS = 31;
    private static final long MIN_FOOTPRINT = 160L << 20;

    private KQuantMatVecBench() {}

    public static void main(String[] args) {
        int[][] shapes = {{2048, 8192}, {8192, 2048}};
        GgmlType[] types = args.length > 0
                ? Arrays.stream(args).map(GgmlType::valueOf).toArray(GgmlType[]::new)
                : new GgmlType[] {GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.F16};
        System.out.printf(Locale.ROOT, "species %s, %d cores, pool threads %d%n",
                jdk.incubator.vector.FloatVector.SPECIES_PREFERRED, Runtime.getRuntime().availableProcessors(),
                ComputePool.configuredThreads());
        System.out.printf(Locale.ROOT, "%-5s %-10s %-16s %10s %10s %10s %10s%n",
                "type", "shape", "mode", "median", "min", "max", "median_ms");
        try (Arena arena = Arena.ofShared()) {
            for (GgmlType type : types) {
                for (int[] shape : shapes) {
                    run(arena, type, shape[0], shape[1], MIN_FOOTPRINT);
                }
                run(arena, type, 64, 4096, 0); // one copy, 64x4096: cache-resident, shows compute-bound speed
            }
        }
    }

    private interface Op {
        void run(WeightMatrix w, float[] x, float[] out);
    }

    private static void run(Arena arena, GgmlType type, int rows, int cols, long footprint) {
        long bytes = type.byteSize((long) rows * cols);
        int copies = (int) Math.max(1, (footprint + bytes - 1) / bytes);
        WeightMatrix[] ws = new WeightMatrix[copies];
        for (int i = 0; i < copies; i++) {
            MemorySegment seg = random(arena, type, (long) rows * cols, 42 + i);
            ws[i] = type == GgmlType.F16 ? WeightMatrix.of(type, seg, rows, cols)
                    : KQuants.kQuant(type, seg, rows, cols);
        }
        float[] x = TestData.vector(cols, 7);
        float[] out = new float[rows];
        if (type != GgmlType.F16) {
            time(type, rows, cols, "old dot 1 thread", ws, x, out, bytes, (w, v, o) -> {
                for (int r = 0; r < w.rows(); r++) {
                    o[r] = legacyDot(w, r, v);
                }
            });
        }
        time(type, rows, cols, "dot 1 thread", ws, x, out, bytes, (w, v, o) -> {
            for (int r = 0; r < w.rows(); r++) {
                o[r] = w.dot(r, v, 0);
            }
        });
        time(type, rows, cols, "dotRows 1 thread", ws, x, out, bytes, (w, v, o) -> w.dotRows(v, 0, w.rows(), o));
        Kernels k = Kernels.vector();
        time(type, rows, cols, "matvec pool", ws, x, out, bytes, k::matvec);
    }

    /** The first vector kernels (per-row dot, byte loads widened per lane group), kept as the sub-512-bit fallback. */
    private static float legacyDot(WeightMatrix w, int r, float[] x) {
        return switch (w) {
            case Q4KMatrix q -> q.dotLegacy(r, x, 0);
            case Q5KMatrix q -> q.dotLegacy(r, x, 0);
            case Q6KMatrix q -> q.dotLegacy(r, x, 0);
            default -> throw new IllegalArgumentException(w.toString());
        };
    }

    private static void time(GgmlType type, int rows, int cols, String mode, WeightMatrix[] ws, float[] x,
            float[] out, long bytes, Op op) {
        int copies = ws.length;
        // cache-resident shapes: repeat within one timed sample so that each sample covers >= 4 MB
        int inner = (int) Math.max(1, (4L << 20) / bytes);
        for (int i = 0; i < (2 * copies + 10) * inner; i++) {
            op.run(ws[i % copies], x, out);
        }
        double[] gbs = new double[REPS];
        long[] ns = new long[REPS];
        for (int i = 0; i < REPS; i++) {
            long t0 = System.nanoTime();
            for (int k = 0; k < inner; k++) {
                op.run(ws[(i + k) % copies], x, out);
            }
            ns[i] = (System.nanoTime() - t0) / inner;
            gbs[i] = (double) bytes / ns[i];
        }
        Arrays.sort(gbs);
        Arrays.sort(ns);
        System.out.printf(Locale.ROOT, "%-5s %-10s %-16s %5.1f GB/s %5.1f GB/s %5.1f GB/s %8.3f%n", type,
                rows + "x" + cols, mode, gbs[REPS / 2], gbs[0], gbs[REPS - 1], ns[REPS / 2] / 1e6);
    }

    /** Random bytes (every bit pattern of quants and sub-block scales is valid) with sane super-block halves. */
    private static MemorySegment random(Arena arena, GgmlType type, long n, long seed) {
        MemorySegment seg = arena.allocate(type.byteSize(n), 64);
        SplittableRandom rnd = new SplittableRandom(seed);
        long size = seg.byteSize();
        long i = 0;
        for (; i + 8 <= size; i += 8) {
            seg.set(ValueLayout.JAVA_LONG_UNALIGNED, i, rnd.nextLong());
        }
        for (; i < size; i++) {
            seg.set(ValueLayout.JAVA_BYTE, i, (byte) rnd.nextInt());
        }
        ValueLayout.OfShort s16 = TestData.LE_SHORT;
        if (type == GgmlType.F16) {
            for (long e = 0; e < n; e++) {
                seg.setAtIndex(s16, e, Float.floatToFloat16((float) rnd.nextDouble(-0.1, 0.1)));
            }
            return seg;
        }
        int ts = type.typeSize();
        for (long b = 0; b < n / 256; b++) {
            long off = b * ts;
            if (type == GgmlType.Q6_K) {
                seg.set(s16, off + 208, Float.floatToFloat16(1e-3f));
            } else {
                seg.set(s16, off, Float.floatToFloat16(1e-3f));
                seg.set(s16, off + 2, Float.floatToFloat16(5e-4f));
            }
        }
        return seg;
    }
}
