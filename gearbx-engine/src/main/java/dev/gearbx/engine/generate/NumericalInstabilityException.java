package dev.gearbx.engine.generate;

import dev.gearbx.engine.GearbxException;
import dev.gearbx.engine.gear.Gear;

/** A forward step produced NaN or infinite logits even after a retry one gear higher. */
public final class NumericalInstabilityException extends GearbxException {
    private static final long serialVersionUID = 1L;

    private final int position;
    private final Gear gear;

    public NumericalInstabilityException(int position, Gear gear, String detail) {
        super("logits at position " + position + " are not finite at gear " + gear + ": " + detail);
        this.position = position;
        this.gear = gear;
    }

    public int position() {
        return position;
    }

    public Gear gear() {
        return gear;
    }
}
