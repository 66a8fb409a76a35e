package dev.gearbx.reactive.client;

/**
 * The connection failed: it could not be made, the server dropped it mid-stream, or nothing arrived
 * within the read timeout. A stream never hangs on a silent server: it fails with this.
 */
public final class OpenAiConnectionException extends OpenAiException {
    private static final long serialVersionUID = 1L;

    public OpenAiConnectionException(String message, Throwable cause) {
        super(message, cause);
    }
}
