package dev.gearbx.engine.routing;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Shannon entropy in bits of softmax(logits), computed stably in one pass over the logits.
 *
 * <p>With m the maximum, y = (z - m) log2 e, s = sum 2^y and t = sum 2^y y, the entropy is
 * H = log2 s - t / s bits. The vector path reads the logits twice: once for m, once for s and t with an
 * inline exponential in log2 units (2^f by a degree-4 polynomial, 2^k added to its exponent field by an
 * integer add: 13 vector operations per 16 logits instead of 15). The second pass is
 * compute-bound, so blocking it to stay in L1 did not pay: measured 93 us with blocks of 2,048 and
 * a running maximum, 62 us as two plain passes (V = 128,256 on the 2-core Xeon, BENCHMARKS.md).
 */
public final class Entropy {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final double LN2 = Math.log(2);
    private static final float Y_MIN = -126f;
    private static final double LOG2E_D = 1 / Math.log(2);
    private static final float LOG2E = (float) LOG2E_D;
    private static final float ROUND_MAGIC = 12582912f; // 1.5 * 2^23
    // 2^f on [-1/2, 1/2]: least-squares fit in relative error at 2,000 Chebyshev nodes (max relative error 2.7e-6)
    private static final float P0 = 0.9999991908565833f;
    private static final float P1 = 0.6931219676960609f;
    private static final float P2 = 0.24024981109537324f;
    private static final float P3 = 0.05591703917486638f;
    private static final float P4 = 0.009560510206480214f;

    private Entropy() {}

    /** Entropy in bits of softmax(logits[0 .. n)), Vector API path. */
    public static float bits(float[] logits, int n) {
        return bits(logits, n, null);
    }

    /**
     * Entropy in bits of softmax(logits[0 .. n)); when {@code logNormalizer} is given, its first
     * element receives log(sum_i e^z_i) (natural log), so that log p_i = z_i - logNormalizer[0]
     * comes from the same single pass.
     */
    public static float bits(float[] logits, int n, double @org.jspecify.annotations.Nullable [] logNormalizer) {
        check(logits, n);
        // pass 1: the maximum m (four independent maxima hide the latency of max)
        FloatVector m0 = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        FloatVector m1 = m0;
        FloatVector m2 = m0;
        FloatVector m3 = m0;
        int i = 0;
        int end4 = n - n % (4 * L);
        for (; i < end4; i += 4 * L) {
            m0 = m0.max(FloatVector.fromArray(F, logits, i));
            m1 = m1.max(FloatVector.fromArray(F, logits, i + L));
            m2 = m2.max(FloatVector.fromArray(F, logits, i + 2 * L));
            m3 = m3.max(FloatVector.fromArray(F, logits, i + 3 * L));
        }
        float max = m0.max(m1).max(m2.max(m3)).reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            max = Math.max(max, logits[i]);
        }
        checkFinite(max);
        if (max == Float.NEGATIVE_INFINITY) {
            return toBits(0, 0); // every logit is -inf: throws
        }
        // pass 2, in log2 units: y = (z - m) log2 e <= 0, s = sum 2^y, t = sum 2^y y; H = log2 s - t / s bits
        FloatVector vNegMLog2e = FloatVector.broadcast(F, -max * LOG2E);
        FloatVector vMin = FloatVector.broadcast(F, Y_MIN);
        FloatVector vLog2e = FloatVector.broadcast(F, LOG2E);
        FloatVector vMagic = FloatVector.broadcast(F, ROUND_MAGIC);
        FloatVector c0 = FloatVector.broadcast(F, P0);
        FloatVector c1 = FloatVector.broadcast(F, P1);
        FloatVector c2 = FloatVector.broadcast(F, P2);
        FloatVector c3 = FloatVector.broadcast(F, P3);
        FloatVector c4 = FloatVector.broadcast(F, P4);
        FloatVector s0 = FloatVector.zero(F);
        FloatVector s1 = s0;
        FloatVector t0 = s0;
        FloatVector t1 = s0;
        // two vectors per iteration, each with its own sums: twice the independent work in flight
        int end2 = n - n % (2 * L);
        for (i = 0; i < end2; i += 2 * L) {
            // y = z log2 e - m log2 e in one fma, clamped at -126 where 2^y leaves the normal range (-inf adds ~1e-38)
            FloatVector y0 = FloatVector.fromArray(F, logits, i).fma(vLog2e, vNegMLog2e).max(vMin);
            FloatVector y1 = FloatVector.fromArray(F, logits, i + L).fma(vLog2e, vNegMLog2e).max(vMin);
            // k = round(y) in r's low mantissa bits (the 1.5 * 2^23 trick), f = y - k in [-1/2, 1/2]
            FloatVector r0 = y0.add(vMagic);
            FloatVector r1 = y1.add(vMagic);
            FloatVector f0 = y0.sub(r0.sub(vMagic));
            FloatVector f1 = y1.sub(r1.sub(vMagic));
            // 2^f by a degree-4 polynomial fitted on [-1/2, 1/2] (relative error < 2.7e-6), Horner form
            FloatVector p0 = f0.fma(c4, c3).fma(f0, c2).fma(f0, c1).fma(f0, c0);
            FloatVector p1 = f1.fma(c4, c3).fma(f1, c2).fma(f1, c1).fma(f1, c0);
            // 2^y = 2^f 2^k: r's bits shifted left by 23 are exactly k << 23 (the magic's low 9 bits are zero),
            // added to 2^f's exponent field by one integer add instead of building 2^k and multiplying
            FloatVector e0 = p0.reinterpretAsInts().add(r0.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23)).reinterpretAsFloats();
            FloatVector e1 = p1.reinterpretAsInts().add(r1.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23)).reinterpretAsFloats();
            s0 = s0.add(e0);
            s1 = s1.add(e1);
            t0 = e0.fma(y0, t0);
            t1 = e1.fma(y1, t1);
        }
        double s = s0.add(s1).reduceLanes(VectorOperators.ADD);
        double t = t0.add(t1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            double y = Math.max((logits[i] - max) * LOG2E_D, Y_MIN);
            double e = Math.pow(2, y);
            s += e;
            t += e * y;
        }
        if (logNormalizer != null && s > 0) {
            logNormalizer[0] = max + Math.log(s);
        }
        return toBits(s, t);
    }

    /** Scalar reference: the same quantity by the textbook two-pass formula in double precision. */
    public static float bitsScalar(float[] logits, int n) {
        check(logits, n);
        double m = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            m = Math.max(m, logits[i]);
        }
        checkFinite((float) m);
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += Math.exp(logits[i] - m);
        }
        double h = 0;
        for (int i = 0; i < n; i++) {
            double p = Math.exp(logits[i] - m) / s;
            if (p > 0) {
                h -= p * Math.log(p);
            }
        }
        return (float) Math.max(0, h / LN2);
    }

    /** H = log2 s - t / s bits, with s = sum 2^y and t = sum 2^y y (y in log2 units relative to the maximum). */
    private static float toBits(double s, double t) {
        if (!(s > 0)) {
            throw new IllegalArgumentException("every logit is -infinity: the distribution is empty");
        }
        return (float) Math.max(0, Math.log(s) / LN2 - t / s);
    }

    private static void check(float[] logits, int n) {
        if (n < 1 || n > logits.length) {
            throw new IllegalArgumentException("entropy over " + n + " logits of an array of " + logits.length);
        }
    }

    private static void checkFinite(float max) {
        if (Float.isNaN(max) || max == Float.POSITIVE_INFINITY) {
            throw new IllegalArgumentException("logits contain NaN or +infinity (maximum " + max + ")");
        }
    }

    /** log2(n): the entropy of a uniform distribution over n outcomes. */
    public static double maxBits(int n) {
        return Math.log(n) / LN2;
    }
}
