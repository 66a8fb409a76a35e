package dev.gearbx.engine.routing;

import jdk.incubator.vector.FloatVector;
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

    private Entropy() {}

    /** Entropy in bits of softmax(logits[0 .. n)), Vector API path. */
    public static float bits(float[] logits, int n) {
        check(logits, n);
        double m = Double.NEGATIVE_INFINITY;
        double s = 0;
        double t = 0;
        for (int start = 0; start < n; start += BLOCK) {
            int end = Math.min(n, start + BLOCK);
            // block maximum (the block is then in L1 for the exponentials)
            FloatVector vmax = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
            int i = start;
            int vecEnd = start + (end - start) / L * L;
            for (; i < vecEnd; i += L) {
                vmax = vmax.max(FloatVector.fromArray(F, logits, i));
            }
            float bmax = vmax.reduceLanes(VectorOperators.MAX);
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
            for (i = start; i < vecEnd; i += L) {
                // clamp so that a -inf logit gives e = 0 and e * d = 0, not 0 * -inf = NaN
                FloatVector d = FloatVector.fromArray(F, logits, i).sub(vm).max(-Float.MAX_VALUE);
                FloatVector e = d.lanewise(VectorOperators.EXP);
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
