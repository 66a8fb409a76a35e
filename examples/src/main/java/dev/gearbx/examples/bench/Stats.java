package dev.gearbx.examples.bench;

import java.util.Arrays;

/**
 * Order statistics of a sample: median, range and upper percentiles (nearest rank).
 *
 * @param n sample size
 */
record Stats(int n, double median, double min, double max, double p90, double p99) {

    static Stats of(double[] values) {
        if (values.length == 0) {
            throw new IllegalArgumentException("no values to summarize");
        }
        double[] v = values.clone();
        Arrays.sort(v);
        return new Stats(v.length, median(v), v[0], v[v.length - 1], rank(v, 0.90), rank(v, 0.99));
    }

    static Stats of(long[] values) {
        return of(Arrays.stream(values).asDoubleStream().toArray());
    }

    /** The same statistics scaled by {@code factor} (e.g. nanoseconds to microseconds). */
    Stats scaled(double factor) {
        return new Stats(n, median * factor, min * factor, max * factor, p90 * factor, p99 * factor);
    }

    private static double median(double[] sorted) {
        int m = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
    }

    private static double rank(double[] sorted, double q) {
        int i = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.clamp(i, 0, sorted.length - 1)];
    }
}
