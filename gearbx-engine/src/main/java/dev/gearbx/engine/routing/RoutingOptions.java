package dev.gearbx.engine.routing;

import dev.gearbx.engine.gguf.GgufMetadata;
import dev.gearbx.engine.gear.Gear;
import org.jspecify.annotations.Nullable;

/**
 * How a generation picks its gears. Immutable; build with {@link #builder()}.
 *
 * @param pinned run every step at this gear (static mode, for baselines); null routes by entropy
 * @param thresholds entropy thresholds in bits; null uses the model family's preset scaled to its
 *     vocabulary
 * @param calibrate derive the thresholds from the prompt's entropies (p40/p60, capped) instead
 * @param window steps averaged by the entropy monitor
 * @param hysteresis margin in bits around each threshold
 * @param minDuration steps a gear runs before a normal shift
 * @param catastrophicRun consecutive catastrophic steps that force MID (0 disables the fallback)
 * @param initialGear gear of the first step; null lets the prompt classifier choose
 * @param deferredSteps decide from entropies batched every k steps (k = 1: every step)
 * @param escalate when a step below HIGH comes out more uncertain than the high threshold, run that same step
 *     again at HIGH and take its token (one more forward pass per such token), instead of only shifting for
 *     the steps after it; needs the entropy of each step at once, so backends with deferred readbacks ignore it
 */
public record RoutingOptions(
        @Nullable Gear pinned,
        @Nullable Thresholds thresholds,
        boolean calibrate,
        int window,
        float hysteresis,
        int minDuration,
        int catastrophicRun,
        @Nullable Gear initialGear,
        int deferredSteps,
        boolean escalate) {

    /** Entropy routing with the family preset, window 4, hysteresis 0.1 bits, minimum 4 steps. */
    public static final RoutingOptions DEFAULT = builder().build();

    public RoutingOptions {
        if (window < 1) {
            throw new IllegalArgumentException("routing parameter 'window' must be at least 1, got " + window);
        }
        if (!(hysteresis >= 0)) {
            throw new IllegalArgumentException("routing parameter 'hysteresis' must be >= 0, got " + hysteresis);
        }
        if (minDuration < 1) {
            throw new IllegalArgumentException("routing parameter 'minDuration' must be at least 1, got " + minDuration);
        }
        if (catastrophicRun < 0) {
            throw new IllegalArgumentException("routing parameter 'catastrophicRun' must be >= 0, got " + catastrophicRun);
        }
        if (deferredSteps < 1) {
            throw new IllegalArgumentException("routing parameter 'deferredSteps' must be at least 1, got " + deferredSteps);
        }
    }

    /**
     * Gear of the prompt and the first steps: the pinned gear, else {@link #initialGear()}, else the
     * {@link StatisticalPromptClassifier}'s for {@code prompt}. One rule for every backend.
     */
    public Gear startGear(String prompt) {
        return pinned != null ? pinned : initialGear != null ? initialGear : new StatisticalPromptClassifier().assess(prompt).gear();
    }

    /**
     * Thresholds before any calibration: the configured ones, else the model's own or its family's preset
     * ({@link Thresholds#forModel}). One rule for every backend.
     */
    public Thresholds baseThresholds(GgufMetadata md, int vocabularySize) {
        return thresholds != null ? thresholds : Thresholds.forModel(md, vocabularySize);
    }

    /** Static mode: every step at {@code gear}. */
    public static RoutingOptions pinned(Gear gear) {
        return builder().pinned(gear).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.pinned = pinned;
        b.thresholds = thresholds;
        b.calibrate = calibrate;
        b.window = window;
        b.hysteresis = hysteresis;
        b.minDuration = minDuration;
        b.catastrophicRun = catastrophicRun;
        b.initialGear = initialGear;
        b.deferredSteps = deferredSteps;
        b.escalate = escalate;
        return b;
    }

    /** Builder for {@link RoutingOptions}. */
    public static final class Builder {
        private @Nullable Gear pinned;
        private @Nullable Thresholds thresholds;
        private boolean calibrate;
        private int window = 4;
        private float hysteresis = ThresholdPolicy.DEFAULT_HYSTERESIS;
        private int minDuration = ThresholdPolicy.DEFAULT_MIN_DURATION;
        private int catastrophicRun = ThresholdPolicy.DEFAULT_CATASTROPHIC_RUN;
        private @Nullable Gear initialGear;
        private int deferredSteps = 1;
        private boolean escalate;

        private Builder() {}

        public Builder pinned(@Nullable Gear gear) {
            this.pinned = gear;
            return this;
        }

        public Builder thresholds(@Nullable Thresholds thresholds) {
            this.thresholds = thresholds;
            return this;
        }

        public Builder thresholds(float low, float high) {
            this.thresholds = new Thresholds(low, high);
            return this;
        }

        public Builder calibrate(boolean calibrate) {
            this.calibrate = calibrate;
            return this;
        }

        public Builder window(int window) {
            this.window = window;
            return this;
        }

        public Builder hysteresis(float hysteresis) {
            this.hysteresis = hysteresis;
            return this;
        }

        public Builder minDuration(int minDuration) {
            this.minDuration = minDuration;
            return this;
        }

        public Builder catastrophicRun(int run) {
            this.catastrophicRun = run;
            return this;
        }

        public Builder initialGear(@Nullable Gear gear) {
            this.initialGear = gear;
            return this;
        }

        public Builder deferredSteps(int k) {
            this.deferredSteps = k;
            return this;
        }

        /** Re-run a step at HIGH when it comes out more uncertain than the high threshold (default off). */
        public Builder escalate(boolean escalate) {
            this.escalate = escalate;
            return this;
        }

        public RoutingOptions build() {
            return new RoutingOptions(pinned, thresholds, calibrate, window, hysteresis, minDuration, catastrophicRun,
                    initialGear, deferredSteps, escalate);
        }
    }
}
