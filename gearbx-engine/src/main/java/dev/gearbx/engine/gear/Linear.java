package dev.gearbx.engine.gear;

import dev.gearbx.engine.tensor.WeightMatrix;
import java.util.Objects;

/**
 * A linear layer's weights in every gear. The forward pass asks for the matrix of the step's gear;
 * for an unmanaged layer that is always the original. Looking up a gear allocates nothing once
 * the gear's format exists.
 */
public interface Linear {

    /** Tensor name, e.g. {@code blk.0.attn_q.weight}. */
    String name();

    /** The weights as stored in the model file (the HIGH gear). */
    WeightMatrix original();

    /** The weights this gear reads (the original for HIGH and for unmanaged layers). */
    WeightMatrix at(Gear gear);

    /**
     * The matrix {@code gear} reads if its format has been built, else the original; never builds
     * anything (for accounting and reports).
     */
    default WeightMatrix peek(Gear gear) {
        return at(gear);
    }

    /** Whether the precision manager changes this layer's format with the gear. */
    default boolean managed() {
        return false;
    }

    /** A layer that always uses its original weights. */
    static Linear fixed(String name, WeightMatrix weights) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(weights, "weights");
        return new Linear() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public WeightMatrix original() {
                return weights;
            }

            @Override
            public WeightMatrix at(Gear gear) {
                return weights;
            }

            @Override
            public String toString() {
                return name + " " + weights;
            }
        };
    }
}
