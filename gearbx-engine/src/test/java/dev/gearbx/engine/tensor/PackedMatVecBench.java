package dev.gearbx.engine.tensor;

import dev.gearbx.engine.gguf.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Not a test: times packed formats against F16 (the HIGH reference) on 2048x8192 and 8192x2048, single-thread row
 * dots and {@link Kernels#vector()} matvec, all variants interleaved in one process (each repetition runs every
 * variant once, so machine noise spreads evenly). Each variant cycles through copies of its matrix totalling at
 * least {@code MIN_FOOTPRINT} bytes, so the weights come from DRAM (L3 is 35 MB). Also times the quantizers.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp gearbx-engine/target/classes:gearbx-engine/target/test-classes \
 *     dev.gearbx.engine.tensor.PackedMatVecBench [reps]</pre>
 */
public final class PackedMatVecBench {
    private static final long MIN_FOOTPRINT = 128L << 20;

    private PackedMatVecBench() {}

    private record Variant(String name, WeightMatrix[] copies, long bytes) {}

    public static void main(String[] args) {
        int reps = args.length > 0 ? Integer.parseInt(args[0]) : 40;
        System.out.printf(Locale.ROOT, "species %s, %d cores, reps %d%n",
                jdk.incubator.vector.FloatVector.SPECIES_PREFERRED, Runtime.getRuntime().availableProcessors(), reps);
        Arena arena = Arena.ofShared();
        if (args.length > 1 && args[1].equals("cache")) {
            inCache(arena, reps);
            return;
        }
        int[][] shapes = {{2048, 8192}, {8192, 2048}};
        for (int[] shape : shapes) {
            int rows = shape[0];
            int cols = shape[1];
            WeightMatrix src = PackedTestData.f32(arena, rows, cols, PackedTestData.Dist.GAUSSIAN, 0.02, 42);
            List<Variant> vs = new ArrayList<>();
            vs.add(f16(arena, src));
            int dg = PackedFormat.DEFAULT_GROUP_SIZE;
            for (PackedFormat f : new PackedFormat[] {PackedFormat.INT8, PackedFormat.INT6, PackedFormat.INT4,
                PackedFormat.INT2}) {
                vs.add(packed(arena, f, dg, src, true));
            }
            for (int g : PackedFormat.GROUP_SIZES) {
                vs.add(packed(arena, PackedFormat.NESTED_MID, g, src, g == 32));
                vs.add(packed(arena, PackedFormat.NESTED_LOW, g, src, false));
            }
            float[] x = TestData.vector(cols, 7);
            float[] out = new float[rows];
            Kernels k = Kernels.vector();
            for (int threads : new int[] {1, 2}) {
                String mode = threads == 1 ? "rowdots-1t" : "matvec-2t";
                double[][] ns = new double[vs.size()][reps];
                for (int rep = -10; rep < reps; rep++) {
                    for (int v = 0; v < vs.size(); v++) {
                        Variant var = vs.get(v);
                        int nc = var.copies().length;
                        int iters = rep < 0 ? nc : 1;
                        for (int it = 0; it < iters; it++) {
                            WeightMatrix w = var.copies()[Math.floorMod(rep * 7 + it, nc)];
                            long t0 = System.nanoTime();
                            if (threads == 1) {
                                for (int r = 0; r < rows; r++) {
                                    out[r] = w.dot(r, x, 0);
                                }
                            } else {
                                k.matvec(w, x, out);
                            }
                            long t = System.nanoTime() - t0;
                            if (rep >= 0) {
                                ns[v][rep] = t;
                            }
                        }
                    }
                }
                System.out.printf(Locale.ROOT, "%n%s %dx%d  (weights+scales bytes; ratio = F16 time / time)%n",
                        mode, rows, cols);
                System.out.printf(Locale.ROOT, "%-14s %8s %7s %9s %8s %8s %8s %8s %7s %7s%n", "variant", "MB",
                        "copies", "med_ms", "min_ms", "max_ms", "GB/s", "Gw/s", "t_ratio", "b_ratio");
                double f16Med = 0;
                long f16Bytes = vs.get(0).bytes();
                for (int v = 0; v < vs.size(); v++) {
                    double[] t = ns[v].clone();
                    Arrays.sort(t);
                    double med = t[reps / 2];
                    if (v == 0) {
                        f16Med = med;
                    }
                    Variant var = vs.get(v);
                    System.out.printf(Locale.ROOT, "%-14s %8.2f %7d %9.3f %8.3f %8.3f %8.2f %8.2f %7.2f %7.2f%n",
                            var.name(), var.bytes() / 1e6, var.copies().length, med / 1e6, t[0] / 1e6,
                            t[reps - 1] / 1e6, var.bytes() / med, (double) rows * cols / med, f16Med / med,
                            (double) f16Bytes / var.bytes());
                }
            }
        }
    }

    /**
     * Kernel cost without DRAM: a 64x4096 matrix (F16: 512 KiB) stays in L2, single-thread row dots; the minimum
     * over batches of 20 matvecs, in ns per weight.
     */
    private static void inCache(Arena arena, int reps) {
        WeightMatrix src = PackedTestData.f32(arena, 64, 4096, PackedTestData.Dist.GAUSSIAN, 0.02, 1);
        List<Variant> vs = new ArrayList<>();
        vs.add(f16(arena, src));
        for (PackedFormat f : PackedFormat.values()) {
            for (int g : PackedFormat.GROUP_SIZES) {
                PackedMatrix m = PackedMatrix.quantize(f, g, src, arena);
                vs.add(new Variant(f + "/" + g, new WeightMatrix[] {m}, m.byteSize()));
            }
        }
        float[] x = TestData.vector(4096, 3);
        float[] out = new float[64];
        double[][] ns = new double[vs.size()][reps];
        for (int rep = -20; rep < reps; rep++) {
            for (int v = 0; v < vs.size(); v++) {
                WeightMatrix w = vs.get(v).copies()[0];
                long t0 = System.nanoTime();
                for (int it = 0; it < 20; it++) {
                    for (int r = 0; r < 64; r++) {
                        out[r] = w.dot(r, x, 0);
                    }
                }
                if (rep >= 0) {
                    ns[v][rep] = (System.nanoTime() - t0) / (20.0 * 64 * 4096);
                }
            }
        }
        System.out.printf(Locale.ROOT, "in-cache 64x4096 rowdots-1t: ns/weight min, median%n");
        for (int v = 0; v < vs.size(); v++) {
            double[] t = ns[v].clone();
            Arrays.sort(t);
            System.out.printf(Locale.ROOT, "%-16s %7.4f %7.4f%n", vs.get(v).name(), t[0], t[reps / 2]);
        }
    }

    private static Variant f16(Arena arena, WeightMatrix src) {
        int rows = src.rows();
        int cols = src.cols();
        long bytes = 2L * rows * cols;
        MemorySegment first = arena.allocate(bytes, 64);
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            src.copyRow(r, row, 0);
            for (int c = 0; c < cols; c++) {
                first.setAtIndex(TestData.LE_SHORT, (long) r * cols + c, Float.floatToFloat16(row[c]));
            }
        }
        WeightMatrix[] ws = new WeightMatrix[copies(bytes)];
        for (int i = 0; i < ws.length; i++) {
            MemorySegment seg = i == 0 ? first : arena.allocate(bytes, 64).copyFrom(first);
            ws[i] = WeightMatrix.of(GgmlType.F16, seg, rows, cols);
        }
        return new Variant("F16", ws, bytes);
    }

    private static Variant packed(Arena arena, PackedFormat f, int g, WeightMatrix src, boolean timeQuantizer) {
        long t0 = System.nanoTime();
        NestedInt8Storage nested = f.isNested() ? NestedInt8Storage.quantize(g, src, arena) : null;
        PackedMatrix m = nested == null ? PackedMatrix.quantize(f, g, src, arena)
                : f == PackedFormat.NESTED_LOW ? nested.low() : nested.mid();
        long qt = System.nanoTime() - t0;
        if (timeQuantizer) {
            // the first call includes JIT warm-up; time a second one
            t0 = System.nanoTime();
            PackedMatrix.quantize(f, g, src, arena);
            qt = System.nanoTime() - t0;
            System.out.printf(Locale.ROOT, "quantize %-10s G=%-3d %dx%d: %.0f ms (%.0f Mweights/s, %s)%n", f, g,
                    src.rows(), src.cols(), qt / 1e6, (double) src.rows() * src.cols() / qt * 1e3,
                    f.isNested() ? "both views" : "");
        }
        long bytes = m.byteSize();
        WeightMatrix[] ws = new WeightMatrix[copies(bytes)];
        for (int i = 0; i < ws.length; i++) {
            ws[i] = i == 0 ? m : copy(arena, m, f, nested);
        }
        return new Variant(f + "/" + g, ws, bytes);
    }

    /** A copy of m's memory wrapped as the same format (for the nested views: a copy of the whole storage). */
    private static WeightMatrix copy(Arena arena, PackedMatrix m, PackedFormat f, NestedInt8Storage nested) {
        int r = m.rows();
        int c = m.cols();
        int g = m.groupSize();
        if (f.isNested()) {
            MemorySegment all = arena.allocate(nested.byteSize(), 64).copyFrom(nested.segment());
            NestedInt8Storage s = NestedInt8Storage.wrap(all, r, c, g);
            return f == PackedFormat.NESTED_LOW ? s.low() : s.mid();
        }
        MemorySegment seg = arena.allocate(m.byteSize(), 64).copyFrom(m.data());
        return switch (f) {
            case INT8 -> new PackedInt8Matrix(seg, r, c, g);
            case INT6 -> new PackedInt6Matrix(seg, r, c, g);
            case INT4 -> new PackedInt4Matrix(seg, r, c, g);
            case INT2 -> new PackedInt2Matrix(seg, r, c, g);
            default -> throw new AssertionError(f);
        };
    }

    private static int copies(long bytes) {
        return (int) Math.max(2, (MIN_FOOTPRINT + bytes - 1) / bytes);
    }

}
