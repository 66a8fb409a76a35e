package dev.gearbx.engine.model;

import dev.gearbx.engine.GearbxException;

/**
 * A model file is readable but does not describe a model gearbx can run: an unsupported
 * architecture or tensor type, a missing tensor, or shapes that contradict the metadata. The message
 * names the tensor or key and both the expected and the actual value.
 */
public final class ModelFormatException extends GearbxException {
    private static final long serialVersionUID = 1L;

    public ModelFormatException(String message) {
        super(message);
    }
}
