package dev.gearbx.engine.routing;

/**
 * Follows the entropy of each step's next-token distribution: the raw value, its average over a
 * rolling window, and how many consecutive steps were catastrophic (above a fraction of log2 V,
 * the entropy of uniform noise). Not thread-safe; one per sequence. Allocates nothing per step.
 */
public final class EntropyMonitor {
    /** Default fraction of log2(V) above which entropy counts as catastrophic. */
    public static final double DEFAULT_CATASTROPHIC_FRACTION = 0.9;

    private final float[] window;
    private final int vocabularySize;
    private final float catastrophicBits;
    private int count;
    private int next;
    private double sum;
    private float last = Float.NaN;
    private int catastrophicRun;

    /**
     * @param windowSize steps averaged by {@link #smoothed()} (at least 1)
     * @param vocabularySize size of the distributions observed (at least 2)
     */
    public EntropyMonitor(int windowSize, int vocabularySize) {
        this(windowSize, vocabularySize, DEFAULT_CATASTROPHIC_FRACTION);
    }

    public EntropyMonitor(int windowSize, int vocabularySize, double catastrophicFraction) {
        if (windowSize < 1) {
            throw new IllegalArgumentException("windowSize must be at least 1, got " + windowSize);
        }
        if (vocabularySize < 2) {
            throw new IllegalArgumentException("vocabularySize must be at least 2, got " + vocabularySize);
        }
        if (!(catastrophicFraction > 0 && catastrophicFraction <= 1)) {
            throw new IllegalArgumentException("catastrophicFraction must be in (0, 1], got " + catastrophicFraction);
        }
        this.window = new float[windowSize];
        this.vocabularySize = vocabularySize;
        this.catastrophicBits = (float) (catastrophicFraction * Entropy.maxBits(vocabularySize));
    }

    /** Computes the entropy of softmax(logits[0 .. V)) and records it; returns it in bits. */
    public float observe(float[] logits) {
        return observeBits(Entropy.bits(logits, vocabularySize));
    }

    /** Records an entropy already computed (e.g. on a GPU); returns it. */
    public float observeBits(float bits) {
        if (!(bits >= 0) || Float.isInfinite(bits)) {
            throw new IllegalArgumentException("entropy must be a finite number of bits >= 0, got " + bits);
        }
        if (count == window.length) {
            sum -= window[next];
        } else {
            count++;
        }
        window[next] = bits;
        sum += bits;
        next = (next + 1) % window.length;
        last = bits;
        catastrophicRun = bits > catastrophicBits ? catastrophicRun + 1 : 0;
        return bits;
    }

    /** The last observed entropy in bits (NaN before the first). */
    public float last() {
        return last;
    }

    /** Average of the last {@code windowSize} entropies (fewer at the start; NaN before the first). */
    public float smoothed() {
        return count == 0 ? Float.NaN : (float) (sum / count);
    }

    /** Steps observed in the window so far (at most the window size). */
    public int filled() {
        return count;
    }

    public int windowSize() {
        return window.length;
    }

    public int vocabularySize() {
        return vocabularySize;
    }

    /** Consecutive most recent steps whose entropy was catastrophic. */
    public int catastrophicRun() {
        return catastrophicRun;
    }

    /** Entropy in bits above which a step counts as catastrophic. */
    public float catastrophicBits() {
        return catastrophicBits;
    }

    public void reset() {
        count = 0;
        next = 0;
        sum = 0;
        last = Float.NaN;
        catastrophicRun = 0;
    }
}
