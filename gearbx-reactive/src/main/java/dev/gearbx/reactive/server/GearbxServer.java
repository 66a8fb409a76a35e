package dev.gearbx.reactive.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.gearbx.engine.GearbxException;
import dev.gearbx.engine.model.ContextOverflowException;
import dev.gearbx.engine.routing.Thresholds;
import dev.gearbx.reactive.GearbxModel;
import dev.gearbx.reactive.metrics.GearbxMetrics;
import dev.gearbx.reactive.openai.OpenAiJson;
import dev.gearbx.reactive.openai.Responses;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.NettyOutbound;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * gearbx as an OpenAI-compatible HTTP server on Reactor Netty. Any OpenAI client (any language)
 * can use it; each streamed chunk also carries the token's entropy and gear in an extra
 * {@code gearbx} field that OpenAI clients ignore.
 *
 * <pre>{@code
 * try (GearbxModel model = Gearbx.builder().model("stories260K.gguf").build();
 *      GearbxServer server = GearbxServer.builder().model("stories260K", model).port(8080).start()) {
 *     System.out.println("serving at " + server.baseUrl());   // http://127.0.0.1:8080/v1
 *     server.onDispose().block();
 * }
 * }</pre>
 *
 * <h2>Endpoints</h2>
 * <ul>
 *   <li>{@code GET /v1/models}: the served model ids.
 *   <li>{@code POST /v1/chat/completions} and {@code POST /v1/completions}: streamed
 *       ({@code "stream": true}: server-sent events ending with {@code data: [DONE]}) or whole;
 *       {@code max_tokens}, {@code temperature}, {@code top_p}, {@code seed}, {@code stop} (up to
 *       4), {@code logprobs}/{@code top_logprobs} (0 to 20), {@code stream_options.include_usage},
 *       and {@code ignore_eos} (an extension, as in vLLM).
 *       Sampling follows OpenAI (temperature and top-p only; temperature 0 is greedy); without any
 *       sampling field the model's own defaults apply.
 *   <li>{@code GET /v1/gearbx/telemetry}: server-sent events of every active stream's tokens
 *       (entropy, gear) and ends, for a dashboard ({@link Responses.TelemetryEvent}).
 *   <li>{@code GET /v1/gearbx/thresholds}: each model's entropy thresholds ({@code {"id": {"low", "high"}}}).
 *   <li>{@code GET /dashboard}: a live page of the telemetry ({@link Dashboard}).
 *   <li>{@code GET /metrics}: Prometheus text of the Micrometer meters
 *       ({@link dev.gearbx.reactive.metrics.GearbxMeters}; with several models they add up).
 * </ul>
 *
 * <p>Errors are OpenAI's JSON {@code {"error": {"message", "type", "param", "code"}}}: 400 for an
 * invalid request (malformed JSON, a wrong type, a value out of range, naming the field in
 * {@code param}), 404 for an unknown model or path, 413 for a body over the size limit, 500 for
 * a failed generation. A client that disconnects cancels its generation (its KV cache is freed
 * within one step). The server closes neither the models nor the meter registry it was given.
 */
public final class GearbxServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(GearbxServer.class.getName());
    private static final byte[] DONE = "data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII);

    private final Map<String, GearbxModel> models;
    private final long maxBodyBytes;
    private final PrometheusMeterRegistry registry;
    private final List<GearbxMetrics> metrics = new ArrayList<>();
    private final TelemetryHub telemetry = new TelemetryHub();
    private final long started = System.currentTimeMillis() / 1000;
    private final DisposableServer server;

    private GearbxServer(Builder b) {
        this.models = Collections.unmodifiableMap(new LinkedHashMap<>(b.models));
        this.maxBodyBytes = b.maxBodyBytes;
        this.registry = b.registry != null ? b.registry : new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        for (GearbxModel m : models.values()) {
            GearbxMetrics binder = new GearbxMetrics(m);
            binder.bindTo(registry);
            metrics.add(binder);
        }
        this.server = HttpServer.create()
                .host(b.host)
                .port(b.port)
                .route(routes -> routes
                        .get("/v1/models", (req, res) -> json(res, HttpResponseStatus.OK, modelList()))
                        .post("/v1/chat/completions", (req, res) -> complete(req, res, true))
                        .post("/v1/completions", (req, res) -> complete(req, res, false))
                        .get("/v1/gearbx/telemetry", (req, res) -> telemetry(res))
                        .get("/v1/gearbx/thresholds", (req, res) -> json(res, HttpResponseStatus.OK, thresholds()))
                        .get("/dashboard", (req, res) -> dashboard(res, "index.html"))
                        .get("/dashboard/{file}", (req, res) -> dashboard(res, String.valueOf(req.param("file"))))
                        .get("/metrics", (req, res) -> res
                                .header(HttpHeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")
                                .sendString(Mono.fromSupplier(registry::scrape)))
                        .route(req -> true, (req, res) -> error(res, new ApiError(HttpResponseStatus.NOT_FOUND,
                                "invalid_request_error", "no such endpoint: " + req.method() + " " + req.uri(), null,
                                "unknown_url"))))
                .bindNow();
        LOG.log(System.Logger.Level.INFO, "gearbx server at " + baseUrl() + " serving " + models.keySet());
    }

    /** A builder: loopback (127.0.0.1), an ephemeral port, 1 MiB request bodies, no model yet. */
    public static Builder builder() {
        return new Builder(Map.of(), "127.0.0.1", 0, 1 << 20, null);
    }

    /** The served id of a model file: its name without the {@code .gguf} extension. */
    public static String modelId(Path file) {
        String name = Objects.requireNonNull(file.getFileName(), "file name").toString();
        return name.toLowerCase(Locale.ROOT).endsWith(".gguf") ? name.substring(0, name.length() - 5) : name;
    }

    /** The port the server listens on (the one chosen when built with port 0). */
    public int port() {
        return server.port();
    }

    public String host() {
        return server.host();
    }

    /** The base URL OpenAI clients take, e.g. {@code http://127.0.0.1:8080/v1}. */
    public String baseUrl() {
        return "http://" + host() + ":" + port() + "/v1";
    }

    /** The served models by id. */
    public Map<String, GearbxModel> models() {
        return models;
    }

    /** The registry behind {@code /metrics}. */
    public PrometheusMeterRegistry meterRegistry() {
        return registry;
    }

    /** Completes when the server has stopped. */
    public Mono<Void> onDispose() {
        return server.onDispose();
    }

    /** Stops listening and ends the telemetry streams; running generations are cancelled with their connections. */
    @Override
    public void close() {
        telemetry.close();
        server.disposeNow();
        metrics.forEach(GearbxMetrics::close);
    }

    // ---- handlers

    private Responses.ModelList modelList() {
        return Responses.ModelList.of(models.keySet().stream().map(id -> Responses.ModelInfo.of(id, started)).toList());
    }

    private Publisher<Void> complete(HttpServerRequest req, HttpServerResponse res, boolean chat) {
        return body(req).flatMap(bytes -> {
            ServedRequest r = chat ? ServedRequest.chat(bytes) : ServedRequest.completion(bytes);
            GearbxModel model = models.get(r.model());
            if (model == null) {
                throw new ApiError(HttpResponseStatus.NOT_FOUND, "invalid_request_error",
                        "The model '" + r.model() + "' does not exist; served: " + models.keySet(), "model", "model_not_found");
            }
            String id = (chat ? "chatcmpl-" : "cmpl-") + UUID.randomUUID().toString().replace("-", "");
            Completions c = new Completions(r, model, id, System.currentTimeMillis() / 1000, telemetry);
            if (r.stream()) {
                Flux<Object> chunks = chat ? c.chatChunks() : c.completionChunks();
                return Mono.from(sse(res, chunks));
            }
            Mono<?> whole = chat ? c.chatCompletion() : c.completion();
            return whole.flatMap(o -> Mono.from(json(res, HttpResponseStatus.OK, o)));
        }).onErrorResume(e -> Mono.from(error(res, e)));
    }

    /** The request body, at most {@code maxBodyBytes} (413 beyond, before reading when Content-Length says so). */
    private Mono<byte[]> body(HttpServerRequest req) {
        String length = req.requestHeaders().get(HttpHeaderNames.CONTENT_LENGTH);
        if (length != null) {
            try {
                if (Long.parseLong(length.strip()) > maxBodyBytes) {
                    return Mono.error(tooLarge());
                }
            } catch (NumberFormatException e) {
                return Mono.error(ApiError.invalid(null, "invalid Content-Length: " + length));
            }
        }
        return req.receive().asByteArray().collect(ByteArrayOutputStream::new, (acc, bytes) -> {
            if (acc.size() + (long) bytes.length > maxBodyBytes) {
                throw tooLarge();
            }
            acc.writeBytes(bytes);
        }).map(ByteArrayOutputStream::toByteArray);
    }

    private ApiError tooLarge() {
        return new ApiError(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "invalid_request_error",
                "the request body exceeds " + maxBodyBytes + " bytes", null, "request_too_large");
    }

    /**
     * Chunks as server-sent events, each flushed as it comes, then {@code data: [DONE]}. An error
     * after the headers went out becomes an error event (no [DONE]). Cancelled when the client goes.
     */
    private NettyOutbound sse(HttpServerResponse res, Flux<Object> chunks) {
        Flux<ByteBuf> events = chunks.map(o -> event(toJson(o)))
                .concatWith(Mono.fromSupplier(() -> Unpooled.wrappedBuffer(DONE)))
                .onErrorResume(e -> {
                    ApiError a = apiError(e);
                    return Mono.just(event(toJson(a.body())));
                });
        return res.sse().send(events, b -> true);
    }

    private static ByteBuf event(byte[] json) {
        byte[] out = new byte[json.length + 8];
        System.arraycopy("data: ".getBytes(StandardCharsets.US_ASCII), 0, out, 0, 6);
        System.arraycopy(json, 0, out, 6, json.length);
        out[out.length - 2] = '\n';
        out[out.length - 1] = '\n';
        return Unpooled.wrappedBuffer(out);
    }

    private Publisher<Void> telemetry(HttpServerResponse res) {
        return res.sse().send(telemetry.events().map(e -> event(toJson(e))), b -> true);
    }

    /** Each model's thresholds by id, for the dashboard's entropy trace. */
    private Map<String, Thresholds> thresholds() {
        Map<String, Thresholds> out = new LinkedHashMap<>();
        models.forEach((id, m) -> out.put(id, m.thresholds()));
        return out;
    }

    /** A file of the dashboard (HTML, JS, CSS from the class path; no CDN), or 404. */
    private static Publisher<Void> dashboard(HttpServerResponse res, String file) {
        Dashboard.Asset asset = Dashboard.asset(file);
        if (asset == null) {
            return error(res, new ApiError(HttpResponseStatus.NOT_FOUND, "invalid_request_error",
                    "no such dashboard file: " + file, null, "unknown_url"));
        }
        return res.header(HttpHeaderNames.CONTENT_TYPE, asset.contentType())
                .header(HttpHeaderNames.CACHE_CONTROL, "no-cache")
                .sendByteArray(Mono.just(asset.bytes()));
    }

    private static NettyOutbound json(HttpServerResponse res, HttpResponseStatus status, Object body) {
        return res.status(status)
                .header(HttpHeaderNames.CONTENT_TYPE, "application/json")
                .sendByteArray(Mono.just(toJson(body)));
    }

    private static Publisher<Void> error(HttpServerResponse res, Throwable e) {
        ApiError a = apiError(e);
        if (a.status().code() >= 500) {
            LOG.log(System.Logger.Level.WARNING, "gearbx server: request failed", e);
        }
        if (res.hasSentHeaders()) {
            return Mono.error(e);
        }
        if (a.status() == HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE) {
            res.keepAlive(false); // the rest of the body is not read
        }
        return json(res, a.status(), a.body());
    }

    /** Maps a failure to OpenAI's error JSON and status. */
    static ApiError apiError(Throwable e) {
        if (e instanceof ApiError a) {
            return a;
        }
        if (e instanceof ContextOverflowException) {
            return new ApiError(HttpResponseStatus.BAD_REQUEST, "invalid_request_error", String.valueOf(e.getMessage()),
                    null, "context_length_exceeded");
        }
        if (e instanceof GearbxException || e instanceof IllegalArgumentException) {
            return new ApiError(HttpResponseStatus.BAD_REQUEST, "invalid_request_error", String.valueOf(e.getMessage()),
                    null, null);
        }
        return new ApiError(HttpResponseStatus.INTERNAL_SERVER_ERROR, "server_error",
                "generation failed: " + e, null, null);
    }

    private static byte[] toJson(Object o) {
        try {
            return OpenAiJson.MAPPER.writeValueAsBytes(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write " + o.getClass().getSimpleName() + " as JSON", e);
        }
    }

    /**
     * Immutable and fluent: each method returns a new builder. {@link #start()} binds the port.
     */
    public static final class Builder {
        private final Map<String, GearbxModel> models;
        private final String host;
        private final int port;
        private final long maxBodyBytes;
        private final @Nullable PrometheusMeterRegistry registry;

        private Builder(Map<String, GearbxModel> models, String host, int port, long maxBodyBytes,
                @Nullable PrometheusMeterRegistry registry) {
            this.models = models;
            this.host = host;
            this.port = port;
            this.maxBodyBytes = maxBodyBytes;
            this.registry = registry;
        }

        private Builder with(Function<Map<String, GearbxModel>, Map<String, GearbxModel>> m) {
            return new Builder(m.apply(models), host, port, maxBodyBytes, registry);
        }

        /**
         * Serves {@code model} under {@code id} (the {@code model} field of requests).
         *
         * @throws IllegalArgumentException if the id is blank or already taken
         */
        public Builder model(String id, GearbxModel model) {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(model, "model");
            if (id.isBlank()) {
                throw new IllegalArgumentException("model id must not be blank");
            }
            if (models.containsKey(id)) {
                throw new IllegalArgumentException("model id '" + id + "' is already served");
            }
            return with(m -> {
                Map<String, GearbxModel> next = new LinkedHashMap<>(m);
                next.put(id, model);
                return Collections.unmodifiableMap(next);
            });
        }

        /** The address to listen on (127.0.0.1 by default: loopback only). */
        public Builder host(String host) {
            return new Builder(models, Objects.requireNonNull(host, "host"), port, maxBodyBytes, registry);
        }

        /** The port, 0 for an ephemeral one (see {@link GearbxServer#port()}). */
        public Builder port(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be in [0, 65535], got " + port);
            }
            return new Builder(models, host, port, maxBodyBytes, registry);
        }

        /** Largest request body accepted (1 MiB by default); larger ones get 413. */
        public Builder maxBodyBytes(long bytes) {
            if (bytes < 1) {
                throw new IllegalArgumentException("maxBodyBytes must be at least 1, got " + bytes);
            }
            return new Builder(models, host, port, bytes, registry);
        }

        /** The registry {@code /metrics} scrapes (a new one by default); the models' meters are bound to it. */
        public Builder meterRegistry(PrometheusMeterRegistry registry) {
            return new Builder(models, host, port, maxBodyBytes, Objects.requireNonNull(registry, "registry"));
        }

        /**
         * Binds the port and starts serving.
         *
         * @throws IllegalStateException if no model was added
         */
        public GearbxServer start() {
            if (models.isEmpty()) {
                throw new IllegalStateException("no model: call model(id, gearbxModel) before start()");
            }
            return new GearbxServer(this);
        }
    }
}
