package dev.gearbx.engine.gear;

import dev.gearbx.engine.tensor.PackedFormat;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;

/**
 * What the precision manager manages and in which formats. Immutable; build with {@link
 * #builder()}.
 *
 * @param scope which linear layers of a block are managed
 * @param layers how many blocks, from the first, are managed ({@link #ALL_LAYERS} for all)
 * @param formats the format each gear reads for a managed layer
 * @param groupSize weights per quantization scale (32, 64 or 128)
 * @param eager quantize every gear's format at load instead of on the first shift that needs it
 */
public record GearConfig(ManagedScope scope, int layers, Map<Gear, GearFormat> formats, int groupSize, boolean eager) {
    public static final int ALL_LAYERS = Integer.MAX_VALUE;

    /** Attention projections of every block; LOW and MID nested, HIGH original; lazy. */
    public static final GearConfig DEFAULT = builder().build();

    /** Nothing managed: every gear reads the original weights. */
    public static final GearConfig NONE = builder().layers(0).build();

    public GearConfig {
        Objects.requireNonNull(scope, "scope");
        if (layers < 0) {
            throw new IllegalArgumentException("gear parameter 'layers' must be >= 0, got " + layers);
        }
        EnumMap<Gear, GearFormat> f = new EnumMap<>(Gear.class);
        f.putAll(formats);
        for (Gear g : Gear.values()) {
            if (!f.containsKey(g)) {
                throw new IllegalArgumentException("gear parameter 'formats' has no format for " + g + ": " + formats);
            }
        }
        if (f.get(Gear.LOW) == GearFormat.NESTED_MID || f.get(Gear.MID) == GearFormat.NESTED_LOW) {
            throw new IllegalArgumentException("gear parameter 'formats': the nested planes are LOW = NESTED_LOW and MID = NESTED_MID, got " + f);
        }
        formats = Map.copyOf(f);
        boolean ok = false;
        for (int g : PackedFormat.GROUP_SIZES) {
            ok |= g == groupSize;
        }
        if (!ok) {
            throw new IllegalArgumentException("gear parameter 'groupSize' must be one of 32, 64, 128, got " + groupSize);
        }
    }

    public GearFormat format(Gear gear) {
        return formats.get(gear);
    }

    /** Whether block {@code layer}'s tensor {@code name} is managed. */
    public boolean manages(int layer, String name) {
        return layer < layers && scope.includes(name);
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.scope = scope;
        b.layers = layers;
        b.formats.putAll(formats);
        b.groupSize = groupSize;
        b.eager = eager;
        return b;
    }

    /** Builder for {@link GearConfig}. */
    public static final class Builder {
        private ManagedScope scope = ManagedScope.ATTENTION;
        private int layers = ALL_LAYERS;
        private final EnumMap<Gear, GearFormat> formats = new EnumMap<>(Map.of(
                Gear.LOW, GearFormat.NESTED_LOW, Gear.MID, GearFormat.NESTED_MID, Gear.HIGH, GearFormat.ORIGINAL));
        private int groupSize = PackedFormat.DEFAULT_GROUP_SIZE;
        private boolean eager;

        private Builder() {}

        public Builder scope(ManagedScope scope) {
            this.scope = scope;
            return this;
        }

        /** Manage the first {@code n} blocks (the seed's {@code num_attn_layers_to_manage}). */
        public Builder layers(int n) {
            this.layers = n;
            return this;
        }

        public Builder format(Gear gear, GearFormat format) {
            formats.put(gear, format);
            return this;
        }

        public Builder groupSize(int groupSize) {
            this.groupSize = groupSize;
            return this;
        }

        public Builder eager(boolean eager) {
            this.eager = eager;
            return this;
        }

        public GearConfig build() {
            return new GearConfig(scope, layers, formats, groupSize, eager);
        }
    }
}
