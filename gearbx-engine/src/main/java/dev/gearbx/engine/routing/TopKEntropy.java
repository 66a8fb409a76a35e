package dev.gearbx.engine.routing;

import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * The entropy that can be known from a top-k list of log-probabilities (OpenAI's
 * {@code top_logprobs}, at most 20 entries), called the <em>truncated entropy</em> in gearbx.
 *
 * <p>Definition, in bits: with p_i = e^(logprob_i) for the k listed tokens and the tail mass
 * r = max(0, 1 - sum p_i) (everything not listed, counted as <em>one</em> outcome),
 *
 * <pre>    H_k = - sum_i p_i log2 p_i - r log2 r</pre>
 *
 * Merging the tail into one outcome can only lower entropy, so H_k is a lower bound of the full
 * entropy; it grows with k and equals the full entropy once the list covers every token with
 * probability above zero. Non-finite log-probabilities (a server's {@code -inf} or NaN) are skipped;
 * rounding that makes the listed probabilities sum above 1 gives a tail of 0. The sum runs in list
 * order in double precision, so the same list gives the same float on every machine: the engine
 * (from its own top-k) and the HTTP client (from a server's JSON) agree exactly. Remote routing uses
 * the narrower thresholds 0.4/1.2 bits for it (see the design notes).
 */
public final class TopKEntropy {
    private static final double LN2 = Math.log(2);

    private TopKEntropy() {}

    /** H_k in bits of the first {@code n} natural-log probabilities. */
    public static float bits(float[] logProbabilities, int n) {
        if (n < 0 || n > logProbabilities.length) {
            throw new IllegalArgumentException("n must be in [0, " + logProbabilities.length + "], got " + n);
        }
        double mass = 0;
        double h = 0; // in nats
        for (int i = 0; i < n; i++) {
            double lp = logProbabilities[i];
            if (!Double.isFinite(lp)) {
                continue;
            }
            double p = Math.exp(lp);
            mass += p;
            h -= p * lp;
        }
        double tail = 1 - mass;
        if (tail > 0) {
            h -= tail * Math.log(tail);
        }
        return (float) (h / LN2);
    }

    /** H_k in bits of a list's log-probabilities, read with {@code logProbability}. */
    public static <T> float bits(List<T> entries, ToDoubleFunction<T> logProbability) {
        float[] lp = new float[entries.size()];
        for (int i = 0; i < lp.length; i++) {
            lp[i] = (float) logProbability.applyAsDouble(entries.get(i));
        }
        return bits(lp, lp.length);
    }
}
