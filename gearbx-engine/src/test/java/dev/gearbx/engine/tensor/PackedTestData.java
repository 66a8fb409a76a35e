package dev.gearbx.engine.tensor;

import dev.gearbx.engine.gguf.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;

/** F32 source matrices with Gaussian, heavy-tailed or uniform weights for the packed-format tests and benches. */
final class PackedTestData {
    static final PackedFormat[] FORMATS = PackedFormat.values();

    private PackedTestData() {}

    enum Dist {
        GAUSSIAN, STUDENT_T3, UNIFORM
    }

    static WeightMatrix f32(Arena arena, int rows, int cols, Dist dist, double sigma, long seed) {
        long n = (long) rows * cols;
        MemorySegment seg = arena.allocate(n * 4, 64);
        SplittableRandom rnd = new SplittableRandom(seed);
        DoubleSupplier next = sampler(dist, rnd);
        for (long i = 0; i < n; i++) {
            seg.setAtIndex(TestData.LE_FLOAT, i, (float) (sigma * next.getAsDouble()));
        }
        return WeightMatrix.of(GgmlType.F32, seg, rows, cols);
    }

    static WeightMatrix f32(int rows, int cols, Dist dist, long seed) {
        return f32(Arena.ofAuto(), rows, cols, dist, 0.02, seed);
    }

    static DoubleSupplier sampler(Dist dist, SplittableRandom rnd) {
        return switch (dist) {
            case GAUSSIAN -> () -> gaussian(rnd);
            case UNIFORM -> () -> rnd.nextDouble(-1, 1);
            case STUDENT_T3 -> () -> {
                // t with 3 degrees of freedom: Z / sqrt(chi2_3 / 3)
                double z = gaussian(rnd);
                double chi = 0;
                for (int k = 0; k < 3; k++) {
                    double g = gaussian(rnd);
                    chi += g * g;
                }
                return z / Math.sqrt(chi / 3);
            };
        };
    }

    static double gaussian(SplittableRandom rnd) {
        double u1 = 1.0 - rnd.nextDouble();
        double u2 = rnd.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }

    /** ||W - Q||_F / ||W||_F, over all rows. */
    static double relativeError(WeightMatrix w, WeightMatrix q) {
        float[] a = new float[w.cols()];
        float[] b = new float[w.cols()];
        double num = 0;
        double den = 0;
        for (int r = 0; r < w.rows(); r++) {
            w.copyRow(r, a, 0);
            q.copyRow(r, b, 0);
            for (int c = 0; c < a.length; c++) {
                double d = (double) a[c] - b[c];
                num += d * d;
                den += (double) a[c] * a[c];
            }
        }
        return Math.sqrt(num / den);
    }
}
