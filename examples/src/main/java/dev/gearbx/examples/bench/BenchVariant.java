package dev.gearbx.examples.bench;

import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.gear.GearConfig;
import dev.gearbx.engine.gear.ManagedScope;
import dev.gearbx.engine.model.LlamaModel;
import dev.gearbx.engine.routing.RoutingOptions;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * What a benchmark runs: a pinned gear variant ({@code HIGH}, {@code MID}, {@code LOW:INT2} ...) or
 * {@code ROUTED} (entropy routing over the nested LOW/MID formats and the original weights).
 *
 * @param pinned the pinned gear and format, or null for routed
 */
record BenchVariant(@Nullable GearVariant pinned) {
    static final String ROUTED = "ROUTED";

    static BenchVariant parse(String spec) {
        return spec.strip().toUpperCase(Locale.ROOT).equals(ROUTED) ? new BenchVariant(null)
                : new BenchVariant(GearVariant.parse(spec));
    }

    String label() {
        return pinned == null ? ROUTED : pinned.label();
    }

    boolean routed() {
        return pinned == null;
    }

    GearConfig config(ManagedScope scope, int groupSize) {
        return pinned != null ? pinned.config(scope, groupSize) : GearConfig.builder().scope(scope).groupSize(groupSize).build();
    }

    RoutingOptions routing() {
        return pinned != null ? RoutingOptions.pinned(pinned.gear()) : RoutingOptions.DEFAULT;
    }

    /** Builds the formats this variant reads before anything is timed. */
    void prepare(LlamaModel m) {
        if (pinned != null) {
            m.precision().prepare(pinned.gear());
        } else {
            m.precision().prepare(Gear.LOW);
            m.precision().prepare(Gear.MID);
        }
    }
}
