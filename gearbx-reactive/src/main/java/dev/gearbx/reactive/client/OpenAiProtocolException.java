package dev.gearbx.reactive.client;

/**
 * The server's reply is not a usable OpenAI stream: malformed server-sent events, malformed or
 * unexpected JSON, a content type other than {@code text/event-stream}, or a stream that ended
 * without {@code data: [DONE]} or a finish reason. The message says which and quotes the offending text.
 */
public final class OpenAiProtocolException extends OpenAiException {
    private static final long serialVersionUID = 1L;

    public OpenAiProtocolException(String message) {
        super(message);
    }

    public OpenAiProtocolException(String message, Throwable cause) {
        super(message, cause);
    }
}
