package dev.gearbx.engine.routing;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Shannon entropy in bits of softmax(logits), computed stably in one pass over the logits.
 *
 * <p>With m the running maximum, s = sum exp(z - m) and t = sum exp(z - m) (z - m), the entropy
 * is H = ln s - t / s nats. When the maximum grows from m to m', both sums are rescaled by
 * exp(m - m') and t also gains (m - m') s. The vector path keeps (m, s, t) per block of logits
 * small enough to stay in L1, so memory is read once.
 */
public final class Entropy {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final int BLOCK = 2048;
    private static final double LN2 = Math.log(2);
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);
    private static final float EXP_MIN = -87f;
    private static final float LOG2E = (float) (1 / Math.log(2));
    private static final float ROUND_MAGIC = 12582912f; // 1.5 * 2^23
    private static final int ROUND_MAGIC_BITS = Float.floatToRawIntBits(ROUND_MAGIC);
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float ONE = 1f;
    private static final float C2 = 1f / 2;
    private static final float C3 = 1f / 6;
    private static final float C4 = 1f / 24;
    private static final float C5 = 1f / 120;
    private static final float C6 = 1f / 720;

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
        double m = Double.NEGATIVE_INFINITY;
        double s = 0;
        double t = 0;
        for (int start = 0; start < n; start += BLOCK) {
            int end = Math.min(n, start + BLOCK);
            // block maximum (the block is then in L1 for the exponentials)
            // four independent maxima hide the latency of max
            FloatVector m0 = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
            FloatVector m1 = m0;
            FloatVector m2 = m0;
            FloatVector m3 = m0;
            int i = start;
            int vecEnd = start + (end - start) / L * L;
            int vecEnd4 = start + (end - start) / (4 * L) * (4 * L);
            for (; i < vecEnd4; i += 4 * L) {
                m0 = m0.max(FloatVector.fromArray(F, logits, i));
                m1 = m1.max(FloatVector.fromArray(F, logits, i + L));
                m2 = m2.max(FloatVector.fromArray(F, logits, i + 2 * L));
                m3 = m3.max(FloatVector.fromArray(F, logits, i + 3 * L));
            }
            for (; i < vecEnd; i += L) {
                m0 = m0.max(FloatVector.fromArray(F, logits, i));
            }
            float bmax = m0.max(m1).max(m2.max(m3)).reduceLanes(VectorOperators.MAX);
            for (; i < end; i++) {
                bmax = Math.max(bmax, logits[i]);
            }
            if (bmax == Float.NEGATIVE_INFINITY) {
                continue; // every logit of the block is -inf: probability 0
            }
            checkFinite(bmax);
            // block sums relative to its own maximum: bs = sum e^(z - bmax), bt = sum e^(z - bmax) (z - bmax)
            FloatVector vs = FloatVector.zero(F);
            FloatVector vt = FloatVector.zero(F);
            FloatVector vm = FloatVector.broadcast(F, bmax);
            FloatVector vC4 = FloatVector.broadcast(F, C4);
            FloatVector vC3 = FloatVector.broadcast(F, C3);
            FloatVector vC2 = FloatVector.broadcast(F, C2);
            FloatVector vOne = FloatVector.broadcast(F, ONE);
            FloatVector vs1 = FloatVector.zero(F);
            FloatVector vt1 = FloatVector.zero(F);
            // two vectors per iteration, each with its own sums: twice the independent work in flight
            int vecEnd2 = start + (end - start) / (2 * L) * (2 * L);
            // every constant as a vector made once, so nothing is broadcast inside the loop
            FloatVector vMin = FloatVector.broadcast(F, EXP_MIN);
            FloatVector vLog2e = FloatVector.broadcast(F, LOG2E);
            FloatVector vMagic = FloatVector.broadcast(F, ROUND_MAGIC);
            IntVector vBias = IntVector.broadcast(I, ROUND_MAGIC_BITS - 127);
            // 2^f for f in [-1/2, 1/2] by its Taylor polynomial to degree 5 in f ln2 (relative error < 2.5e-6)
            FloatVector e5 = FloatVector.broadcast(F, (float) (Math.pow(Math.log(2), 5) / 120));
            FloatVector e4 = FloatVector.broadcast(F, (float) (Math.pow(Math.log(2), 4) / 24));
            FloatVector e3 = FloatVector.broadcast(F, (float) (Math.pow(Math.log(2), 3) / 6));
            FloatVector e2 = FloatVector.broadcast(F, (float) (Math.pow(Math.log(2), 2) / 2));
            FloatVector e1 = FloatVector.broadcast(F, (float) Math.log(2));
            for (i = start; i < vecEnd2; i += 2 * L) {
                FloatVector d0 = FloatVector.fromArray(F, logits, i).sub(vm).max(vMin);
                FloatVector d1 = FloatVector.fromArray(F, logits, i + L).sub(vm).max(vMin);
                // e^d = 2^(d log2 e) = 2^k 2^f with k = round(d log2 e) (the 1.5 * 2^23 trick) and f the rest
                FloatVector rounded0 = d0.fma(vLog2e, vMagic);
                FloatVector rounded1 = d1.fma(vLog2e, vMagic);
                FloatVector f0 = d0.fma(vLog2e, vMagic.sub(rounded0));
                FloatVector f1 = d1.fma(vLog2e, vMagic.sub(rounded1));
                FloatVector p0 = f0.fma(e5, e4);
                FloatVector p1 = f1.fma(e5, e4);
                p0 = p0.fma(f0, e3);
                p1 = p1.fma(f1, e3);
                p0 = p0.fma(f0, e2);
                p1 = p1.fma(f1, e2);
                p0 = p0.fma(f0, e1);
                p1 = p1.fma(f1, e1);
                p0 = p0.fma(f0, vOne);
                p1 = p1.fma(f1, vOne);
                FloatVector x0 = p0.mul(rounded0.reinterpretAsInts().sub(vBias)
                        .lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
                FloatVector x1 = p1.mul(rounded1.reinterpretAsInts().sub(vBias)
                        .lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
                vs = vs.add(x0);
                vs1 = vs1.add(x1);
                vt = x0.fma(d0, vt);
                vt1 = x1.fma(d1, vt1);
            }
            vs = vs.add(vs1);
            vt = vt.add(vt1);
            for (; i < vecEnd; i += L) {
                // d = z - max <= 0, clamped at -87 where e^d underflows (a -inf logit then adds ~1e-38, not NaN)
                FloatVector d = FloatVector.fromArray(F, logits, i).sub(vm).max(EXP_MIN);
                // e = e^d, written out here so C2 keeps it in registers (VectorOperators.EXP is a slow call):
                // n = round(d / ln2) by the 1.5 * 2^23 trick, r = d - n ln2 in [-ln2/2, ln2/2]
                FloatVector rounded = d.fma(LOG2E, ROUND_MAGIC);
                FloatVector k = rounded.sub(ROUND_MAGIC);
                FloatVector r = k.mul(-LN2_HI).add(d).add(k.mul(-LN2_LO));
                // e^r by its Taylor polynomial to degree 6 (relative error < 3e-7 on the interval), Horner form
                FloatVector p = r.fma(C6, C5);
                p = p.fma(r, vC4);
                p = p.fma(r, vC3);
                p = p.fma(r, vC2);
                p = p.fma(r, vOne);
                p = p.fma(r, vOne);
                // 2^n from the integer in t's low mantissa bits, placed into the exponent field
                FloatVector pow2n = rounded.reinterpretAsInts().sub(ROUND_MAGIC_BITS - 127)
                        .lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
                FloatVector e = p.mul(pow2n);
                vs = vs.add(e);
                vt = e.fma(d, vt);
            }
            double bs = vs.reduceLanes(VectorOperators.ADD);
            double bt = vt.reduceLanes(VectorOperators.ADD);
            for (; i < end; i++) {
                double d = Math.max(logits[i] - bmax, -Float.MAX_VALUE);
                double e = Math.exp(d);
                bs += e;
                bt += e * d;
            }
            // merge (bmax, bs, bt) into the running (m, s, t)
            if (m == Double.NEGATIVE_INFINITY) {
                m = bmax;
                s = bs;
                t = bt;
            } else if (bmax > m) {
                double scale = Math.exp(m - bmax);
                t = scale * (t + (m - bmax) * s);
                s = scale * s;
                m = bmax;
                s += bs;
                t += bt;
            } else {
                double scale = Math.exp(bmax - m);
                s += scale * bs;
                t += scale * (bt + (bmax - m) * bs);
            }
        }
        if (logNormalizer != null && s > 0) {
            logNormalizer[0] = m + Math.log(s);
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

    private static float toBits(double s, double t) {
        if (!(s > 0)) {
            throw new IllegalArgumentException("every logit is -infinity: the distribution is empty");
        }
        return (float) Math.max(0, (Math.log(s) - t / s) / LN2);
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
