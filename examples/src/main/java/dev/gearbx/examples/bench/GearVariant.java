package dev.gearbx.examples.bench;

import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.gear.GearConfig;
import dev.gearbx.engine.gear.GearFormat;
import dev.gearbx.engine.gear.ManagedScope;
import java.util.Locale;

/**
 * A pinned gear with an optional format, written {@code GEAR[:FORMAT]}: {@code HIGH}, {@code MID}
 * (nested int8), {@code LOW} (nested 4-bit), {@code LOW:INT2}, {@code MID:INT6}, ...
 */
record GearVariant(Gear gear, GearFormat format) {

    static GearVariant parse(String spec) {
        String[] parts = spec.trim().toUpperCase(Locale.ROOT).split(":");
        Gear gear;
        try {
            gear = Gear.valueOf(parts[0]);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown gear '" + parts[0] + "' in variant '" + spec + "' (LOW, MID, HIGH)");
        }
        GearFormat format = switch (gear) {
            case LOW -> GearFormat.NESTED_LOW;
            case MID -> GearFormat.NESTED_MID;
            case HIGH -> GearFormat.ORIGINAL;
        };
        if (parts.length > 1) {
            try {
                format = GearFormat.valueOf(parts[1]);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown format '" + parts[1] + "' in variant '" + spec + "'");
            }
        }
        return new GearVariant(gear, format);
    }

    /** A gear configuration managing {@code scope} in which this variant's gear reads its format. */
    GearConfig config(ManagedScope scope, int groupSize) {
        GearConfig.Builder b = GearConfig.builder().scope(scope).groupSize(groupSize);
        if (gear != Gear.HIGH) {
            b.format(gear, format);
        }
        return b.build();
    }

    String label() {
        return gear == Gear.HIGH ? "HIGH" : gear + ":" + format;
    }
}
