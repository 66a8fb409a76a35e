package dev.gearbx.engine.gear;

import dev.gearbx.engine.tensor.NestedInt8Storage;
import dev.gearbx.engine.tensor.PackedMatrix;
import dev.gearbx.engine.tensor.WeightMatrix;
import java.lang.foreign.Arena;
import org.jspecify.annotations.Nullable;

/**
 * A linear layer whose format follows the gear. Each gear's matrix is quantized from the original
 * the first time a step needs it (or at load when eager), then looking it up is a volatile read:
 * shifting gear copies and allocates nothing. LOW and MID share one nested storage when they use
 * the nested formats. Thread-safe.
 */
final class ManagedLinear implements Linear {
    private final String name;
    private final WeightMatrix original;
    private final GearConfig config;
    private final Arena arena;
    private final PrecisionManager owner;
    private volatile @Nullable WeightMatrix low;
    private volatile @Nullable WeightMatrix mid;
    private volatile @Nullable WeightMatrix high;
    private @Nullable NestedInt8Storage nested;

    ManagedLinear(String name, WeightMatrix original, GearConfig config, Arena arena, PrecisionManager owner) {
        this.name = name;
        this.original = original;
        this.config = config;
        this.arena = arena;
        this.owner = owner;
        for (Gear g : Gear.values()) {
            if (config.format(g) == GearFormat.ORIGINAL) {
                set(g, original);
            }
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public WeightMatrix original() {
        return original;
    }

    @Override
    public boolean managed() {
        return true;
    }

    @Override
    public WeightMatrix at(Gear gear) {
        WeightMatrix m = built(gear);
        return m != null ? m : build(gear);
    }

    @Override
    public WeightMatrix peek(Gear gear) {
        WeightMatrix m = built(gear);
        return m != null ? m : original;
    }

    /** The matrix of {@code gear} if it has been built, else null (for memory accounting). */
    @Nullable WeightMatrix built(Gear gear) {
        return switch (gear) {
            case LOW -> low;
            case MID -> mid;
            case HIGH -> high;
        };
    }

    private void set(Gear gear, WeightMatrix m) {
        switch (gear) {
            case LOW -> low = m;
            case MID -> mid = m;
            case HIGH -> high = m;
        }
    }

    private synchronized WeightMatrix build(Gear gear) {
        WeightMatrix existing = built(gear);
        if (existing != null) {
            return existing;
        }
        GearFormat format = config.format(gear);
        WeightMatrix m;
        if (format == GearFormat.ORIGINAL) {
            m = original;
        } else if (format.nested()) {
            if (nested == null) {
                owner.warnIfDoubleQuantized(this, format);
                nested = NestedInt8Storage.quantize(config.groupSize(), original, arena);
                owner.recordNested(nested);
            }
            m = format == GearFormat.NESTED_LOW ? nested.low() : nested.mid();
        } else {
            owner.warnIfDoubleQuantized(this, format);
            PackedMatrix p = PackedMatrix.quantize(format.packed(), config.groupSize(), original, arena);
            owner.recordPacked(gear, p);
            m = p;
        }
        set(gear, m);
        return m;
    }

    @Override
    public String toString() {
        return name + " managed " + config.formats();
    }
}
