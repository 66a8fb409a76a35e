package dev.gearbx.reactive.client;

import dev.gearbx.engine.GearbxException;

/**
 * A stream from an OpenAI-compatible server failed. Subclasses: {@link OpenAiHttpException} (the
 * server answered with an error), {@link OpenAiProtocolException} (its reply is not the SSE/JSON
 * it should be), {@link OpenAiConnectionException} (no connection, a dropped one, or silence past
 * the read timeout).
 */
public abstract sealed class OpenAiException extends GearbxException
        permits OpenAiHttpException, OpenAiProtocolException, OpenAiConnectionException {
    private static final long serialVersionUID = 1L;

    OpenAiException(String message) {
        super(message);
    }

    OpenAiException(String message, Throwable cause) {
        super(message, cause);
    }
}
