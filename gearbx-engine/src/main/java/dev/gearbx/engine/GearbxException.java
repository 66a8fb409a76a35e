package dev.gearbx.engine;

/**
 * Root of gearbx's typed errors. Unchecked, so that it passes through functional interfaces
 * and Kotlin code; subclasses name the offending file, field, offset or parameter.
 */
public class GearbxException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public GearbxException(String message) {
        super(message);
    }

    public GearbxException(String message, Throwable cause) {
        super(message, cause);
    }
}
