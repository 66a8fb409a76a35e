package dev.gearbx.reactive.client;

/**
 * The server answered with a non-2xx status, or reported an error inside a 2xx stream (an
 * {@code {"error": ...}} event). The message holds the status, the URL and the server's body.
 */
public final class OpenAiHttpException extends OpenAiException {
    private static final long serialVersionUID = 1L;

    private final int status;
    private final String body;

    public OpenAiHttpException(int status, String url, String body) {
        super((status / 100 == 2 ? "the server reported an error mid-stream" : "HTTP " + status) + " from " + url + ": "
                + (body.isEmpty() ? "(empty body)" : body));
        this.status = status;
        this.body = body;
    }

    /** The HTTP status code of the reply. */
    public int status() {
        return status;
    }

    /** The server's error body as sent (usually OpenAI's {@code {"error": {...}}} JSON). */
    public String body() {
        return body;
    }
}
