package dev.gearbx.engine.routing;

import dev.gearbx.engine.gear.Gear;
import java.util.Arrays;

/**
 * The routing state of one sequence: entropy monitor, gear policy and the gear of the next step.
 * After each step, {@link #afterStep} records the entropy and returns the gear for the next one.
 * In deferred mode (k > 1) entropies are queued and handed to the policy every k steps, as a GPU
 * backend that batches its readbacks would; on the CPU k = 1. Not thread-safe; one per sequence.
 */
public final class Router {
    private final RoutingOptions options;
    private final EntropyMonitor monitor;
    private final GearPolicy policy;
    private final float[] pending;
    private int pendingCount;
    private Gear gear;
    private long shifts;

    /**
     * @param thresholds the thresholds to route with (already scaled or calibrated)
     * @param policy the gear policy, or null for a {@link ThresholdPolicy} built from the options
     * @param initialGear gear of the first step
     */
    public Router(RoutingOptions options, int vocabularySize, Thresholds thresholds, @org.jspecify.annotations.Nullable GearPolicy policy,
            Gear initialGear) {
        this.options = options;
        this.monitor = new EntropyMonitor(options.window(), vocabularySize);
        this.policy = options.pinned() != null ? GearPolicy.pinned()
                : policy != null ? policy
                : new ThresholdPolicy(thresholds, effectiveHysteresis(options.hysteresis(), thresholds),
                        options.minDuration(), options.catastrophicRun());
        this.pending = new float[options.deferredSteps()];
        this.gear = options.pinned() != null ? options.pinned() : initialGear;
    }

    /**
     * The hysteresis actually used: the option, but at most 40% of the band (so both gears stay reachable inside it)
     * and at most half the low threshold (a margin as wide as the low threshold would make LOW unreachable from MID:
     * for a model whose thresholds are 0.1/0.5 bits, the default 0.1 becomes 0.05).
     */
    static float effectiveHysteresis(float option, Thresholds t) {
        return Math.min(option, Math.min((t.high() - t.low()) / 2.5f, t.low() / 2));
    }

    /** Gear of the next step. */
    public Gear gear() {
        return gear;
    }

    /** Overrides the gear (e.g. a NaN guard stepping up); the policy notices and restarts its count. */
    public void force(Gear gear) {
        if (gear != this.gear) {
            shifts++;
            this.gear = gear;
        }
    }

    public EntropyMonitor monitor() {
        return monitor;
    }

    public GearPolicy policy() {
        return policy;
    }

    public long shifts() {
        return shifts;
    }

    /**
     * Records the entropy (bits) of the step just run and returns the gear of the next step.
     */
    public Gear afterStep(float entropyBits) {
        pending[pendingCount++] = entropyBits;
        if (pendingCount < pending.length) {
            return gear;
        }
        // a batch of k entropies is "read back": the policy sees each, the last decision wins
        Gear decided = gear;
        for (int i = 0; i < pendingCount; i++) {
            monitor.observeBits(pending[i]);
            decided = policy.next(decided, monitor);
        }
        pendingCount = 0;
        Arrays.fill(pending, 0f);
        if (decided != gear) {
            shifts++;
            gear = decided;
        }
        return gear;
    }

    public RoutingOptions options() {
        return options;
    }
}
