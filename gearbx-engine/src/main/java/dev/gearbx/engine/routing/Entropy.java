package dev.gearbx.engine.routing;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Shannon entropy in bits of softmax(logits), computed stably in two passes over the logits.
 *
 * <p>With k an integer at or just above m log2 e (m the maximum), y = z log2 e - k, s = sum 2^y and
 * t = sum 2^y y, the entropy is H = log2 s - t / s bits. Pass 1 finds the maximum and the minimum by
 * compare + blend ({@code FloatVector.max}, bound to Math.max's NaN and -0 rules, made the maximum pass
 * twice as slow). Pass 2 works in sixteenths of a bit: Y = 16 y, 2^(Y/16) = 2^(j/16) 2^(g/16) with
 * j = round(Y); the first factor is a 16-entry table (one permute) with j's high bits added to its exponent
 * field, the second a degree-2 polynomial (relative error 4.3e-7). The clamp that keeps 2^y normal runs
 * only when the minimum shows it is needed (masked or far-off logits). At V = 128,256 on the 2-core Xeon,
 * JMH in alternating runs: 40–54 us, the previous version 65–99 us (BENCHMARKS.md, fifth session).
 */
public final class Entropy {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final int L = F.length();
    private static final double LN2 = Math.log(2);
    private static final double LOG2E_D = 1 / Math.log(2);
    private static final float LOG2E = (float) LOG2E_D;
    private static final float ROUND_MAGIC = 12582912f; // 1.5 * 2^23
    /** Lowest y (log2 units) kept: 2^-125 is still a normal float with room for the table and polynomial factors. */
    private static final float Y_MIN = -125f;
    /** Fast path (no clamp) when every y is above this, so that Y = 16 y stays above 16 Y_MIN after rounding. */
    private static final double Y_FAST = -124;
    /** Beyond this |k| (|logits| > ~363,000), 16 k is not an exact float: the scalar loop takes over. */
    private static final double K_VECTOR = 1 << 19;
    /** Logits per block of partial sums (a multiple of 2 L). */
    private static final int BLOCK = 2048;
    // 2^(g/16) = 1 + g (Q1 + Q2 g) on g in [-1/2, 1/2]: minimax in relative error (4.3e-7)
    private static final float Q1 = 0.04332423955202103f;
    private static final float Q2 = 0.0009383572614751756f;
    /**
     * Entry m (m = j mod 16): the bits of 2^(m/16) minus m << 19, so that adding j << 19 yields the bits of
     * 2^(j/16) (j >> 4 lands in the exponent field); repeated to fill vectors of more than 16 lanes.
     */
    private static final int[] TABLE = new int[Math.max(16, L)];

    static {
        for (int i = 0; i < TABLE.length; i++) {
            int m = i % 16;
            TABLE[i] = Float.floatToIntBits((float) Math.pow(2, m / 16.0)) - (m << 19);
        }
    }

    private Entropy() {}

    /** Entropy in bits of softmax(logits[0 .. n)), Vector API path. */
    public static float bits(float[] logits, int n) {
        return bits(logits, n, null);
    }

    /**
     * Entropy in bits of softmax(logits[0 .. n)); when {@code logNormalizer} is given, its first
     * element receives log(sum_i e^z_i) (natural log), so that log p_i = z_i - logNormalizer[0]
     * comes from the same computation.
     */
    public static float bits(float[] logits, int n, double @org.jspecify.annotations.Nullable [] logNormalizer) {
        check(logits, n);
        // pass 1: maximum and minimum by compare + blend, four of each in flight; NaN is skipped here
        // (it reaches the sums in pass 2 and is rejected there)
        FloatVector hi0 = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        FloatVector hi1 = hi0;
        FloatVector hi2 = hi0;
        FloatVector hi3 = hi0;
        FloatVector lo0 = FloatVector.broadcast(F, Float.POSITIVE_INFINITY);
        FloatVector lo1 = lo0;
        FloatVector lo2 = lo0;
        FloatVector lo3 = lo0;
        int i = 0;
        int end4 = n - n % (4 * L);
        for (; i < end4; i += 4 * L) {
            FloatVector z0 = FloatVector.fromArray(F, logits, i);
            FloatVector z1 = FloatVector.fromArray(F, logits, i + L);
            FloatVector z2 = FloatVector.fromArray(F, logits, i + 2 * L);
            FloatVector z3 = FloatVector.fromArray(F, logits, i + 3 * L);
            hi0 = hi0.blend(z0, hi0.compare(VectorOperators.LT, z0));
            hi1 = hi1.blend(z1, hi1.compare(VectorOperators.LT, z1));
            hi2 = hi2.blend(z2, hi2.compare(VectorOperators.LT, z2));
            hi3 = hi3.blend(z3, hi3.compare(VectorOperators.LT, z3));
            lo0 = lo0.blend(z0, z0.compare(VectorOperators.LT, lo0));
            lo1 = lo1.blend(z1, z1.compare(VectorOperators.LT, lo1));
            lo2 = lo2.blend(z2, z2.compare(VectorOperators.LT, lo2));
            lo3 = lo3.blend(z3, z3.compare(VectorOperators.LT, lo3));
        }
        float max = hi0.max(hi1).max(hi2.max(hi3)).reduceLanes(VectorOperators.MAX);
        float min = lo0.min(lo1).min(lo2.min(lo3)).reduceLanes(VectorOperators.MIN);
        for (; i < n; i++) {
            max = Math.max(max, logits[i]);
            min = Math.min(min, logits[i]);
        }
        checkFinite(max);
        if (max == Float.NEGATIVE_INFINITY) {
            checkNoNaN(logits, n);
            return toBits(0, 0); // every logit is -inf: throws
        }
        // k = ceil(m log2 e) (the float product is exact in a double), so y <= 0
        double k = Math.ceil(max * (double) LOG2E);
        boolean vector = L >= 4 && Math.abs(k) < K_VECTOR;
        // clamp y at Y_MIN only when some logit is that far below the maximum (e.g. -inf for masked tokens)
        boolean clamp = !(min * (double) LOG2E - k > Y_FAST);
        double ref = vector ? k : max * (double) LOG2E; // y = z log2 e - ref
        // pass 2, in sixteenths of a bit: Y = 16 y, s = sum 2^y, t = sum 2^y y; H = log2 s - t / s bits
        FloatVector vScale = FloatVector.broadcast(F, 16 * LOG2E);
        FloatVector vNegK = FloatVector.broadcast(F, (float) (-16 * k)); // exact when vector
        FloatVector vMin = FloatVector.broadcast(F, 16 * Y_MIN);
        FloatVector vMagic = FloatVector.broadcast(F, ROUND_MAGIC);
        FloatVector q1 = FloatVector.broadcast(F, Q1);
        FloatVector q2 = FloatVector.broadcast(F, Q2);
        FloatVector one = FloatVector.broadcast(F, 1f);
        int step = L >= 16 ? 0 : L; // table vectors: 16 entries over 16 / L vectors
        IntVector ta = IntVector.fromArray(I, TABLE, 0);
        IntVector tb = IntVector.fromArray(I, TABLE, step % 16);
        IntVector tc = IntVector.fromArray(I, TABLE, 2 * step % 16);
        IntVector td = IntVector.fromArray(I, TABLE, 3 * step % 16);
        FloatVector sAll = FloatVector.zero(F);
        FloatVector tAll = sAll;
        int end2 = vector ? n - n % (2 * L) : 0;
        i = 0;
        while (i < end2) {
            // sums per block of BLOCK logits, then added to the totals: shorter float sums, smaller rounding error
            FloatVector s0 = FloatVector.zero(F);
            FloatVector s1 = s0;
            FloatVector t0 = s0;
            FloatVector t1 = s0;
            int blockEnd = Math.min(end2, i + BLOCK);
            // two vectors per iteration, each with its own sums: twice the independent work in flight
            for (; i < blockEnd; i += 2 * L) {
                // Y = 16 (z log2 e - k) in one fma (one rounding; Y <= 0 as k >= m log2 e)
                FloatVector y0 = FloatVector.fromArray(F, logits, i).fma(vScale, vNegK);
                FloatVector y1 = FloatVector.fromArray(F, logits, i + L).fma(vScale, vNegK);
                if (clamp) { // compare + blend keeps NaN, which then poisons s
                    y0 = y0.blend(vMin, y0.compare(VectorOperators.LT, vMin));
                    y1 = y1.blend(vMin, y1.compare(VectorOperators.LT, vMin));
                }
                // j = round(Y) in r's low mantissa bits (the 1.5 * 2^23 trick), g = Y - j in [-1/2, 1/2] (exact)
                FloatVector r0 = y0.add(vMagic);
                FloatVector r1 = y1.add(vMagic);
                FloatVector g0 = y0.sub(r0.sub(vMagic));
                FloatVector g1 = y1.sub(r1.sub(vMagic));
                // 2^(j/16): table entry j mod 16 plus j << 19, i.e. r's bits << 19 (the magic's low 22 bits are zero)
                IntVector j0 = r0.reinterpretAsInts();
                IntVector j1 = r1.reinterpretAsInts();
                // written out here: a helper method once missed C2's inlining budget (NodeCountInliningCutoff) and
                // boxed the vectors, 5x slower; L is a constant, so only one branch is compiled
                IntVector a0 = L >= 16 ? j0.selectFrom(ta) : sixteenthsNarrow(j0, ta, tb, tc, td);
                IntVector a1 = L >= 16 ? j1.selectFrom(ta) : sixteenthsNarrow(j1, ta, tb, tc, td);
                FloatVector b0 = a0.add(j0.lanewise(VectorOperators.LSHL, 19)).reinterpretAsFloats();
                FloatVector b1 = a1.add(j1.lanewise(VectorOperators.LSHL, 19)).reinterpretAsFloats();
                // 2^(Y/16) = 2^(j/16) (1 + g (Q1 + Q2 g))
                FloatVector e0 = g0.fma(q2, q1).fma(g0, one).mul(b0);
                FloatVector e1 = g1.fma(q2, q1).fma(g1, one).mul(b1);
                s0 = s0.add(e0);
                s1 = s1.add(e1);
                t0 = e0.fma(y0, t0);
                t1 = e1.fma(y1, t1);
            }
            sAll = sAll.add(s0.add(s1));
            tAll = tAll.add(t0.add(t1));
        }
        double s = sAll.reduceLanes(VectorOperators.ADD);
        double t = tAll.reduceLanes(VectorOperators.ADD) / 16;
        for (; i < n; i++) {
            double y = Math.max(logits[i] * (double) LOG2E - ref, Y_MIN);
            double e = Math.pow(2, y);
            s += e;
            t += e * y;
        }
        if (Double.isNaN(s)) {
            throw new IllegalArgumentException("logits contain NaN");
        }
        if (logNormalizer != null && s > 0) {
            // sum e^z = e^m 2^(ref - m log2 e) s, exact up to (z - m)(log2 e - LOG2E) in each exponent
            logNormalizer[0] = max + (ref - max * (double) LOG2E) * LN2 + Math.log(s);
        }
        return toBits(s, t);
    }

    /** The table entries for j mod 16 with 4 or 8 lanes (16 entries over 16 / L vectors); 16 lanes and up use one selectFrom. */
    private static IntVector sixteenthsNarrow(IntVector j, IntVector ta, IntVector tb, IntVector tc, IntVector td) {
        if (L == 8) {
            return j.selectFrom(ta, tb); // indexes wrap modulo 16
        }
        // 4 lanes: entries 0-7 or 8-15 by bit 3 of j
        IntVector low = j.selectFrom(ta, tb);
        IntVector high = j.selectFrom(tc, td);
        return low.blend(high, j.and(8).compare(VectorOperators.NE, 0));
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

    /** H = log2 s - t / s bits, with s = sum 2^y and t = sum 2^y y (y in log2 units relative to a reference). */
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

    private static void checkNoNaN(float[] logits, int n) {
        for (int i = 0; i < n; i++) {
            if (Float.isNaN(logits[i])) {
                throw new IllegalArgumentException("logits contain NaN");
            }
        }
    }

    /** log2(n): the entropy of a uniform distribution over n outcomes. */
    public static double maxBits(int n) {
        return Math.log(n) / LN2;
    }
}
