package dev.gearbx.examples;

import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.gear.GearConfig;
import dev.gearbx.engine.gear.GearFormat;
import dev.gearbx.engine.gear.ManagedScope;
import dev.gearbx.engine.routing.RoutingOptions;
import java.util.List;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;

/** Command-line options for gears and routing, shared by the commands that run a model. */
final class GearOptions {
    @Option(names = "--gear", description = "Pin every step to this gear (LOW, MID, HIGH) instead of routing by entropy.")
    @Nullable Gear pinned;

    @Option(names = "--manage", defaultValue = "ATTENTION",
            description = "Which linear layers follow the gear: ATTENTION, MLP, ALL (default: ${DEFAULT-VALUE}).")
    ManagedScope scope = ManagedScope.ATTENTION;

    @Option(names = "--manage-layers", description = "Manage only the first N blocks (default: all).")
    @Nullable Integer layers;

    @Option(names = "--low-format", defaultValue = "NESTED_LOW",
            description = "Format of the LOW gear: NESTED_LOW, INT4, INT2, INT6 (default: ${DEFAULT-VALUE}).")
    GearFormat lowFormat = GearFormat.NESTED_LOW;

    @Option(names = "--mid-format", defaultValue = "NESTED_MID",
            description = "Format of the MID gear: NESTED_MID, INT8, INT6 (default: ${DEFAULT-VALUE}).")
    GearFormat midFormat = GearFormat.NESTED_MID;

    @Option(names = "--group-size", defaultValue = "32", description = "Weights per quantization scale: 32, 64, 128 (default: ${DEFAULT-VALUE}).")
    int groupSize = 32;

    @Option(names = "--thresholds", split = ",", description = "Entropy thresholds in bits, LOW,HIGH (default: the model family's preset).")
    @Nullable List<Float> thresholds;

    @Option(names = "--calibrate", description = "Derive the thresholds from the prompt's own entropies.")
    boolean calibrate;

    @Option(names = "--escalate", description = "Re-run a step at HIGH when it comes out more uncertain than the high threshold.")
    boolean escalate;

    /**
     * The demo model's defaults: it was trained with its LOW gear's ternary INT2 quantizer in the loop, so every
     * block's linear layers follow the gear and LOW is INT2.
     */
    static GearOptions forDemoModel() {
        GearOptions o = new GearOptions();
        o.scope = ManagedScope.ALL;
        o.lowFormat = GearFormat.INT2;
        return o;
    }

    /**
     * The options a command runs the embedded demo model with: {@code given} (null when no gear option was passed),
     * with the demo model's defaults ({@link #forDemoModel()}) for {@code --manage} and {@code --low-format} unless
     * they were passed explicitly.
     */
    static GearOptions forDemoModel(@Nullable GearOptions given, picocli.CommandLine.ParseResult parsed) {
        if (given == null) {
            return forDemoModel();
        }
        if (!parsed.hasMatchedOption("--manage")) {
            given.scope = ManagedScope.ALL;
        }
        if (!parsed.hasMatchedOption("--low-format")) {
            given.lowFormat = GearFormat.INT2;
        }
        return given;
    }

    GearConfig gearConfig() {
        GearConfig.Builder b = GearConfig.builder().scope(scope).groupSize(groupSize)
                .format(Gear.LOW, lowFormat).format(Gear.MID, midFormat);
        if (layers != null) {
            b.layers(layers);
        }
        return b.build();
    }

    RoutingOptions routing() {
        RoutingOptions.Builder b = RoutingOptions.builder().pinned(pinned).calibrate(calibrate).escalate(escalate);
        if (thresholds != null) {
            if (thresholds.size() != 2) {
                throw new IllegalArgumentException("--thresholds needs two values LOW,HIGH, got " + thresholds);
            }
            b.thresholds(thresholds.get(0), thresholds.get(1));
        }
        return b.build();
    }
}
