package dev.gearbx.engine.tensor;

import java.lang.foreign.Arena;
import java.util.Locale;

/**
 * Not a test: relative Frobenius error ||W - Q|| / ||W|| of every packed format and group size on 4096x4096
 * Gaussian and Student-t (3 dof) weights, plus INT2 with the plain mean-|w| scale (no Lloyd steps).
 *
 * <pre>java --add-modules jdk.incubator.vector -cp gearbx-engine/target/classes:gearbx-engine/target/test-classes \
 *     dev.gearbx.engine.tensor.PackedErrorBench [n]</pre>
 */
public final class PackedErrorBench {
    private PackedErrorBench() {}

    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 4096;
        try (Arena arena = Arena.ofShared()) {
            for (PackedTestData.Dist d : new PackedTestData.Dist[] {PackedTestData.Dist.GAUSSIAN,
                PackedTestData.Dist.STUDENT_T3}) {
                WeightMatrix src = PackedTestData.f32(arena, n, n, d, 0.02, 5);
                for (int g : PackedFormat.GROUP_SIZES) {
                    StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-10s G=%-3d", d, g));
                    for (PackedFormat f : PackedFormat.values()) {
                        double e = PackedTestData.relativeError(src, PackedMatrix.quantize(f, g, src, arena));
                        line.append(String.format(Locale.ROOT, " %s %.5f", f, e));
                    }
                    line.append(String.format(Locale.ROOT, " INT2_absmean %.5f", int2AbsMean(src, g)));
                    System.out.println(line);
                }
            }
        }
    }

    /** INT2 error with scale = mean |w| (half-rounded), q = clamp(round(w / s), -1, 1). */
    private static double int2AbsMean(WeightMatrix src, int g) {
        float[] w = new float[src.cols()];
        double num = 0;
        double den = 0;
        for (int r = 0; r < src.rows(); r++) {
            src.copyRow(r, w, 0);
            for (int from = 0; from < w.length; from += g) {
                float s = Float.float16ToFloat(Float.floatToFloat16(PackedInt2Matrix.ternaryScale(w, from, from + g,
                        0)));
                for (int i = from; i < from + g; i++) {
                    double d = w[i] - PackedMatrix.roundCode(w[i], s, 1) * s;
                    num += d * d;
                    den += (double) w[i] * w[i];
                }
            }
        }
        return Math.sqrt(num / den);
    }
}
