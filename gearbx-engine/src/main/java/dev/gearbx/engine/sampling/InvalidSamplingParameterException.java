package dev.gearbx.engine.sampling;

import dev.gearbx.engine.GearbxException;

/**
 * A {@link SamplingParams} value is out of range. The message names the parameter, the allowed range
 * and the offending value, e.g. {@code sampling parameter 'topP' must be in (0, 1], got 1.5}.
 */
public final class InvalidSamplingParameterException extends GearbxException {
    private static final long serialVersionUID = 1L;

    private final String parameter;
    private final Number value;

    public InvalidSamplingParameterException(String parameter, String requirement, Number value) {
        super("sampling parameter '" + parameter + "' " + requirement + ", got " + value);
        this.parameter = parameter;
        this.value = value;
    }

    /** The record component name, e.g. {@code "topP"}. */
    public String parameter() {
        return parameter;
    }

    /** The rejected value, boxed as given ({@link Float} or {@link Integer}). */
    public Number value() {
        return value;
    }
}
