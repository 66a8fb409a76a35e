package dev.gearbx.engine.tensor;

import dev.gearbx.engine.gguf.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * Not a test: times Q8_0 and Q4_0 matvec, the float dot row by row ("old", before the multi-row kernels) and both
 * current dotRows variants (weights dequantized to float and FMA with float x;
 * x quantized to int8 per 32-block with integer block dots), with F16 as a reference, on 2048x8192 and 8192x2048,
 * single-threaded ({@code dotRows} on the caller) and through {@link VectorKernels#matvec} on a pool of 2. Prints
 * GB/s of weight bytes (median, min, max). Each case cycles through copies totalling >= 192 MiB, so weights come
 * from DRAM.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp gearbx-engine/target/classes:gearbx-engine/target/test-classes \
 *     dev.gearbx.engine.tensor.QuantMatVecBench</pre>
 */
public final class QuantMatVecBench {
    private static final int REPS = 40;
    private static final long MIN_FOOTPRINT = 192L << 20;

    private record Variant(String name, GgmlType type, Function<MemorySegment, Function<int[], WeightMatrix>> make) {}

    private QuantMatVecBench() {}

    public static void main(String[] args) {
        int[][] shapes = {{2048, 8192}, {8192, 2048}};
        Variant[] variants = {
            new Variant("F16", GgmlType.F16, s -> d -> WeightMatrix.of(GgmlType.F16, s, d[0], d[1])),
            new Variant("Q8_0 old", GgmlType.Q8_0, s -> d -> {
                Q8_0Matrix m = new Q8_0Matrix(s, d[0], d[1], false);
                m.rowByRow = true;
                return m;
            }),
            new Variant("Q8_0 float", GgmlType.Q8_0, s -> d -> new Q8_0Matrix(s, d[0], d[1], false)),
            new Variant("Q8_0 int8", GgmlType.Q8_0, s -> d -> new Q8_0Matrix(s, d[0], d[1], true)),
            new Variant("Q4_0 old", GgmlType.Q4_0, s -> d -> {
                Q4_0Matrix m = new Q4_0Matrix(s, d[0], d[1], false);
                m.rowByRow = true;
                return m;
            }),
            new Variant("Q4_0 float", GgmlType.Q4_0, s -> d -> new Q4_0Matrix(s, d[0], d[1], false)),
            new Variant("Q4_0 int8", GgmlType.Q4_0, s -> d -> new Q4_0Matrix(s, d[0], d[1], true)),
        };
        System.out.printf(Locale.ROOT, "species %s, %d cores%n",
                jdk.incubator.vector.FloatVector.SPECIES_PREFERRED, Runtime.getRuntime().availableProcessors());
        System.out.printf(Locale.ROOT, "| %-10s | %-9s | %-7s | %8s | %8s | %8s | %9s |%n",
                "variant", "shape", "threads", "median", "min", "max", "median ms");
        System.out.println("|---|---|---:|---:|---:|---:|---:|");
        try (Arena arena = Arena.ofShared(); ComputePool pool = new ComputePool(2)) {
            Kernels two = new VectorKernels(pool, VectorKernels.DEFAULT_MIN_PARALLEL_ROWS,
                    VectorKernels.DEFAULT_MIN_PARALLEL_BYTES);
            for (int[] shape : shapes) {
                for (Variant v : variants) {
                    WeightMatrix[] ws = matrices(arena, v, shape[0], shape[1]);
                    for (int threads = 1; threads <= 2; threads++) {
                        run(v.name, ws, threads == 1 ? null : two, threads);
                    }
                }
            }
        }
    }

    private static WeightMatrix[] matrices(Arena arena, Variant v, int rows, int cols) {
        long bytes = v.type.byteSize((long) rows * cols);
        int copies = (int) Math.max(1, (MIN_FOOTPRINT + bytes - 1) / bytes);
        WeightMatrix[] ws = new WeightMatrix[copies];
        for (int i = 0; i < copies; i++) {
            ws[i] = v.make.apply(random(arena, v.type, (long) rows * cols, 42 + i)).apply(new int[] {rows, cols});
        }
        return ws;
    }

    private static void run(String name, WeightMatrix[] ws, Kernels k, int threads) {
        int copies = ws.length;
        int rows = ws[0].rows();
        int cols = ws[0].cols();
        float[] x = new float[cols];
        float[] out = new float[rows];
        SplittableRandom rnd = new SplittableRandom(7);
        for (int i = 0; i < cols; i++) {
            x[i] = (float) rnd.nextDouble(-1, 1);
        }
        for (int i = 0; i < 3 * copies + 20; i++) {
            once(ws[i % copies], x, out, k);
        }
        double[] gbs = new double[REPS];
        long[] ns = new long[REPS];
        for (int i = 0; i < REPS; i++) {
            long t0 = System.nanoTime();
            once(ws[i % copies], x, out, k);
            ns[i] = System.nanoTime() - t0;
            gbs[i] = (double) ws[i % copies].byteSize() / ns[i];
        }
        Arrays.sort(gbs);
        Arrays.sort(ns);
        System.out.printf(Locale.ROOT, "| %-10s | %-9s | %-7d | %8.1f | %8.1f | %8.1f | %9.3f |%n", name,
                rows + "x" + cols, threads, gbs[REPS / 2], gbs[0], gbs[REPS - 1], ns[REPS / 2] / 1e6);
    }

    private static void once(WeightMatrix w, float[] x, float[] out, Kernels k) {
        if (k == null) {
            w.dotRows(x, 0, w.rows(), out);
        } else {
            k.matvec(w, x, out);
        }
    }

    /** Random bytes; block scales (and F16 values) set to small finite halves. */
    private static MemorySegment random(Arena arena, GgmlType type, long n, long seed) {
        long bytes = type.byteSize(n);
        MemorySegment seg = arena.allocate(bytes, 64);
        SplittableRandom rnd = new SplittableRandom(seed);
        ValueLayout.OfShort s16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        if (type == GgmlType.F16) {
            for (long i = 0; i < n; i++) {
                seg.setAtIndex(s16, i, Float.floatToFloat16((float) rnd.nextDouble(-0.1, 0.1)));
            }
            return seg;
        }
        for (long o = 0; o + 8 <= bytes; o += 8) {
            seg.set(ValueLayout.JAVA_LONG_UNALIGNED, o, rnd.nextLong());
        }
        for (long o = 0; o < bytes; o += type.typeSize()) {
            seg.set(s16, o, Float.floatToFloat16((float) rnd.nextDouble(1e-4, 1e-3)));
        }
        return seg;
    }
}
