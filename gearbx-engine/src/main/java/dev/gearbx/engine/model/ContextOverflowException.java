package dev.gearbx.engine.model;

import dev.gearbx.engine.GearbxException;

/** A sequence needs more positions than its state (or the model's context) holds. */
public final class ContextOverflowException extends GearbxException {
    private static final long serialVersionUID = 1L;

    private final int capacity;
    private final int required;

    public ContextOverflowException(int capacity, int required) {
        super("sequence needs " + required + " positions but the context holds " + capacity);
        this.capacity = capacity;
        this.required = required;
    }

    public int capacity() {
        return capacity;
    }

    public int required() {
        return required;
    }
}
