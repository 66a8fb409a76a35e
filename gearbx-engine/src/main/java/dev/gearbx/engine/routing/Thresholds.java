package dev.gearbx.engine.routing;

import dev.gearbx.engine.gguf.GgufMetadata;
import dev.gearbx.engine.gguf.GgufMetadataException;
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

    /** Metadata key by which a model file states its own thresholds: float32 array [low, high] in bits. */
    public static final String METADATA_KEY = "gearbx.routing.thresholds";

    /**
     * The thresholds a model asks for: its own {@value #METADATA_KEY} when present (stated for its own vocabulary,
     * used as they are), else its family's preset scaled to the vocabulary.
     *
     * @throws GgufMetadataException if the key is present but is not two floats with 0 <= low < high
     */
    public static Thresholds forModel(GgufMetadata md, int vocabularySize) {
        if (!md.contains(METADATA_KEY)) {
            return ModelFamily.fromGguf(md, vocabularySize).thresholdsFor(vocabularySize);
        }
        float[] v;
        try {
            v = md.getFloatArray(METADATA_KEY);
        } catch (RuntimeException e) {
            throw new GgufMetadataException(METADATA_KEY, "must be an array of two float32 values [low, high]: " + e.getMessage());
        }
        if (v.length != 2) {
            throw new GgufMetadataException(METADATA_KEY, "must hold two values [low, high], has " + v.length);
        }
        try {
            return new Thresholds(v[0], v[1]);
        } catch (IllegalArgumentException e) {
            throw new GgufMetadataException(METADATA_KEY, e.getMessage());
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
