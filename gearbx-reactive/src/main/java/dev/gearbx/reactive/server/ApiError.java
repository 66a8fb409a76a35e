package dev.gearbx.reactive.server;

import dev.gearbx.reactive.openai.Responses;
import io.netty.handler.codec.http.HttpResponseStatus;
import org.jspecify.annotations.Nullable;

/**
 * A request the server refuses, answered as OpenAI's error JSON with {@link #status()}.
 *
 * @see Responses.ErrorResponse
 */
final class ApiError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient HttpResponseStatus status;
    private final String type;
    private final @Nullable String param;
    private final @Nullable String code;

    ApiError(HttpResponseStatus status, String type, String message, @Nullable String param, @Nullable String code) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    /** 400 {@code invalid_request_error} naming the offending field. */
    static ApiError invalid(@Nullable String param, String message) {
        return new ApiError(HttpResponseStatus.BAD_REQUEST, "invalid_request_error", message, param, null);
    }

    static ApiError invalid(String param, String message, String code) {
        return new ApiError(HttpResponseStatus.BAD_REQUEST, "invalid_request_error", message, param, code);
    }

    HttpResponseStatus status() {
        return status;
    }

    Responses.ErrorResponse body() {
        return new Responses.ErrorResponse(new Responses.ErrorBody(getMessage(), type, param, code));
    }
}
