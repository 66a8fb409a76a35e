package dev.gearbx.engine.routing;

import java.util.Arrays;

/**
 * Entropy thresholds in bits: below {@code low} the model is confident (LOW gear), above {@code
 * high} it is uncertain (HIGH gear), between is MID.
 */
public record Thresholds(float low, float high) {
    /** The vocabulary size the family presets are stated for. */
    public static final int REFERENCE_VOCABULARY = 32768;

    public Thresholds {
        if (!(low >= 0) || !(high > low) || Float.isInfinite(high)) {
            throw new IllegalArgumentException("thresholds need 0 <= low < high (finite), got low " + low + ", high " + high);
        }
    }

    /** These thresholds (stated for a 32,768-token vocabulary) scaled by log2(V) / log2(32768). */
    public Thresholds scaledTo(int vocabularySize) {
        double f = Entropy.maxBits(vocabularySize) / Entropy.maxBits(REFERENCE_VOCABULARY);
        return new Thresholds((float) (low * f), (float) (high * f));
    }

    /**
     * Thresholds from the entropies observed over a prompt: low at their 40th percentile, high at the
     * 60th, capped at low <= 0.06 log2(V) and high <= 0.18 log2(V). With fewer than {@code
     * minSamples} entropies, or a degenerate spread, {@code fallback} is returned.
     */
    public static Thresholds calibrate(float[] entropies, int vocabularySize, int minSamples, Thresholds fallback) {
        if (entropies.length < Math.max(1, minSamples)) {
            return fallback;
        }
        float[] sorted = entropies.clone();
        Arrays.sort(sorted);
        double maxBits = Entropy.maxBits(vocabularySize);
        double low = Math.min(percentile(sorted, 0.40), 0.06 * maxBits);
        double high = Math.min(percentile(sorted, 0.60), 0.18 * maxBits);
        if (!(high > low)) {
            // a flat prompt: keep the observed level as low and leave a band above it
            high = Math.min(Math.max(low * 2, low + 0.1), 0.18 * maxBits);
            if (!(high > low)) {
                return fallback;
            }
        }
        return new Thresholds((float) low, (float) high);
    }

    /** Linear-interpolated percentile q in [0, 1] of sorted values. */
    static double percentile(float[] sorted, double q) {
        double pos = q * (sorted.length - 1);
        int i = (int) Math.floor(pos);
        int j = Math.min(i + 1, sorted.length - 1);
        return sorted[i] + (pos - i) * (sorted[j] - sorted[i]);
    }
}
