package dev.gearbx.engine.routing;

import dev.gearbx.engine.gear.Gear;

/**
 * The default policy: the smoothed entropy against two thresholds, with hysteresis, a minimum
 * gear duration and the catastrophic-entropy fallback.
 *
 * <ul>
 *   <li>Shifting up needs the smoothed entropy above a threshold plus the hysteresis margin
 *       (above {@code high + h}: HIGH; above {@code low + h}: at least MID); shifting down needs
 *       it below the threshold minus the margin (below {@code high - h}: at most MID; below
 *       {@code low - h}: LOW). A signal hovering within the margin of a threshold never shifts.
 *   <li>No shift happens before the current gear has run {@code minDuration} steps,
 *   <li>except the fallback: {@code catastrophicRun} consecutive steps of catastrophic entropy
 *       (near-uniform noise, the mark of a broken quantization) force at least MID at once.
 * </ul>
 */
public final class ThresholdPolicy implements GearPolicy {
    public static final int DEFAULT_MIN_DURATION = 4;
    public static final float DEFAULT_HYSTERESIS = 0.1f;
    public static final int DEFAULT_CATASTROPHIC_RUN = 2;

    private final Thresholds thresholds;
    private final float hysteresis;
    private final int minDuration;
    private final int catastrophicRun;
    private int stepsInGear;
    private Gear lastGear = Gear.MID;
    private long fallbacks;

    public ThresholdPolicy(Thresholds thresholds) {
        this(thresholds, DEFAULT_HYSTERESIS, DEFAULT_MIN_DURATION, DEFAULT_CATASTROPHIC_RUN);
    }

    /**
     * @param hysteresis margin in bits around each threshold (>= 0, less than half the band)
     * @param minDuration steps a gear runs at least before a normal shift (>= 1)
     * @param catastrophicRun consecutive catastrophic steps that force MID (>= 1; 0 disables it)
     */
    public ThresholdPolicy(Thresholds thresholds, float hysteresis, int minDuration, int catastrophicRun) {
        if (!(hysteresis >= 0) || 2 * hysteresis >= thresholds.high() - thresholds.low()) {
            throw new IllegalArgumentException("hysteresis must be >= 0 and below half the band " + thresholds + ", got " + hysteresis);
        }
        if (minDuration < 1) {
            throw new IllegalArgumentException("minDuration must be at least 1, got " + minDuration);
        }
        if (catastrophicRun < 0) {
            throw new IllegalArgumentException("catastrophicRun must be >= 0, got " + catastrophicRun);
        }
        this.thresholds = thresholds;
        this.hysteresis = hysteresis;
        this.minDuration = minDuration;
        this.catastrophicRun = catastrophicRun;
    }

    public Thresholds thresholds() {
        return thresholds;
    }

    /** How often the catastrophic fallback fired. */
    public long fallbacks() {
        return fallbacks;
    }

    @Override
    public Gear next(Gear current, EntropyMonitor monitor) {
        if (current != lastGear) {
            // someone else (a user operator, a NaN guard) changed the gear: start counting anew
            lastGear = current;
            stepsInGear = 0;
        }
        stepsInGear++;
        Gear next = current;
        if (catastrophicRun > 0 && monitor.catastrophicRun() >= catastrophicRun && current == Gear.LOW) {
            next = Gear.MID;
            fallbacks++;
        } else if (stepsInGear >= minDuration) {
            next = target(current, monitor.smoothed());
        }
        if (next != current) {
            lastGear = next;
            stepsInGear = 0;
        }
        return next;
    }

    /** The gear the smoothed entropy asks for, given the hysteresis around the current gear. */
    Gear target(Gear current, float e) {
        if (Float.isNaN(e)) {
            return current;
        }
        float lo = thresholds.low();
        float hi = thresholds.high();
        float h = hysteresis;
        return switch (current) {
            case LOW -> e > hi + h ? Gear.HIGH : e > lo + h ? Gear.MID : Gear.LOW;
            case MID -> e > hi + h ? Gear.HIGH : e < lo - h ? Gear.LOW : Gear.MID;
            case HIGH -> e >= hi - h ? Gear.HIGH : e < lo - h ? Gear.LOW : Gear.MID;
        };
    }

    @Override
    public void reset() {
        stepsInGear = 0;
        lastGear = Gear.MID;
        fallbacks = 0;
    }
}
