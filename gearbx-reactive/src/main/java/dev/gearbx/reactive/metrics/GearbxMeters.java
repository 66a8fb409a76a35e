package dev.gearbx.reactive.metrics;

import io.micrometer.core.instrument.Meter;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Every meter {@link GearbxMetrics} registers: name, type, base unit and tag keys. This enum is the
 * documentation; the binder reads names and units from it. Tag values are bounded: {@code gear} is
 * one of {@code low}, {@code mid}, {@code high}.
 */
public enum GearbxMeters {
    /** Generated tokens, by the gear of the step that produced them. */
    TOKENS("gearbx.tokens", Meter.Type.COUNTER, "tokens", "Generated tokens by gear", List.of(Tags.GEAR)),
    /** Entropy of each step's next-token distribution. */
    ENTROPY("gearbx.entropy", Meter.Type.DISTRIBUTION_SUMMARY, "bits", "Entropy of the next-token distribution", List.of()),
    /** Gear shifts (tokens whose step ran at another gear than the step before). */
    GEAR_SHIFTS("gearbx.gear.shifts", Meter.Type.COUNTER, "shifts", "Gear shifts while decoding", List.of()),
    /** Duration of one decode step (forward, entropy, gear decision, sampling). */
    STEP_DURATION("gearbx.step.duration", Meter.Type.TIMER, null, "Duration of one decode step", List.of()),
    /** From a stream's first demand to its first token (prompt ingestion included). */
    TIME_TO_FIRST_TOKEN("gearbx.time.to.first.token", Meter.Type.TIMER, null, "Time to the first token", List.of()),
    /** Streams that started and have not ended. */
    ACTIVE_STREAMS("gearbx.active.streams", Meter.Type.GAUGE, "streams", "Streams generating now", List.of());

    /** Tag keys used above. */
    public static final class Tags {
        /** The gear: {@code low}, {@code mid} or {@code high}. */
        public static final String GEAR = "gear";

        private Tags() {}
    }

    private final String meterName;
    private final Meter.Type type;
    private final @Nullable String baseUnit;
    private final String description;
    private final List<String> tagKeys;

    GearbxMeters(String meterName, Meter.Type type, @Nullable String baseUnit, String description, List<String> tagKeys) {
        this.meterName = meterName;
        this.type = type;
        this.baseUnit = baseUnit;
        this.description = description;
        this.tagKeys = tagKeys;
    }

    public String meterName() {
        return meterName;
    }

    public Meter.Type type() {
        return type;
    }

    /** Base unit, or null for timers (their unit is the registry's time unit). */
    public @Nullable String baseUnit() {
        return baseUnit;
    }

    public String description() {
        return description;
    }

    public List<String> tagKeys() {
        return tagKeys;
    }
}
