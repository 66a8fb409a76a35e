package dev.gearbx.examples.spring;

import dev.gearbx.reactive.server.TelemetryHub;
import com.fasterxml.jackson.core.JsonProcessingException;
import dev.gearbx.reactive.GearbxModel;
import dev.gearbx.reactive.GenerationSummary;
import dev.gearbx.reactive.StreamChunk;
import dev.gearbx.reactive.StreamOptions;
import dev.gearbx.reactive.openai.OpenAiJson;
import dev.gearbx.reactive.openai.Responses;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ResponseStatusException;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * {@code POST /generate}: the continuation of a prompt as server-sent events, one {@code token}
 * event per token (text, entropy, gear) and a final {@code summary} event; and the dashboard's
 * {@code GET /v1/gearbx/telemetry} and {@code GET /v1/gearbx/thresholds}.
 *
 * <pre>{@code
 * curl -N localhost:8080/generate -H 'Content-Type: application/json' -d '{"prompt":"Q: Say hi.\nA:","max_tokens":32}'
 * event:token
 * data:{"index":0,"text":" ","entropy":2.3989956E-5,"smoothed_entropy":2.3989956E-5,"gear":"low","shifted":false}
 * ...
 * event:summary
 * data:{"tokens":28,"stop_reason":"END_OF_GENERATION","gear_shares":{"low":1.0},"shifts":0,"tokens_per_second":43.86}
 * }</pre>
 */
@RestController
class GenerateController {
    private final GearbxModel model;
    private final GearbxProperties properties;
    private final TelemetryHub telemetry;

    GenerateController(GearbxModel model, GearbxProperties properties, TelemetryHub telemetry) {
        this.model = model;
        this.properties = properties;
        this.telemetry = telemetry;
    }

    /**
     * The body of {@code POST /generate} (snake_case, as the OpenAI endpoints).
     *
     * @param prompt the text to continue
     * @param maxTokens token budget; null for {@code gearbx.max-tokens}
     */
    record GenerateRequest(@Nullable String prompt, @Nullable Integer maxTokens) {}

    /** One token: {@code event: token}. */
    record TokenEvent(int index, String text, float entropy, float smoothedEntropy, String gear, boolean shifted) {
        static TokenEvent of(StreamChunk c) {
            return new TokenEvent(c.index(), c.text(), c.entropy(), c.smoothedEntropy(), gearName(c), c.shifted());
        }
    }

    /** The end: {@code event: summary}. */
    record SummaryEvent(int tokens, String stopReason, Map<String, Double> gearShares, long shifts, double tokensPerSecond) {
        static SummaryEvent of(GenerationSummary s) {
            Map<String, Double> shares = new LinkedHashMap<>();
            s.gearShares().forEach((g, v) -> shares.put(g.name().toLowerCase(Locale.ROOT), v));
            return new SummaryEvent(s.tokens(), s.stopReason().name(), shares, s.shifts(), s.tokensPerSecond());
        }
    }

    @PostMapping(path = "/generate", consumes = MediaType.APPLICATION_JSON_VALUE, produces = MediaType.TEXT_EVENT_STREAM_VALUE)
    Flux<ServerSentEvent<String>> generate(@RequestBody byte[] body) {
        GenerateRequest r = parse(body);
        if (r.prompt() == null) {
            throw new ResponseStatusException(HttpStatus.BAD_REQUEST, "'prompt' is required");
        }
        if (r.maxTokens() != null && r.maxTokens() < 1) {
            throw new ResponseStatusException(HttpStatus.BAD_REQUEST, "'max_tokens' must be at least 1, got " + r.maxTokens());
        }
        int maxTokens = r.maxTokens() != null ? r.maxTokens() : properties.maxTokens();
        String id = "gen-" + UUID.randomUUID().toString().replace("-", "");
        CompletableFuture<GenerationSummary> summary = new CompletableFuture<>();
        Flux<StreamChunk> tokens = model.stream(r.prompt(), StreamOptions.builder().maxTokens(maxTokens).build(), summary::complete)
                .transform(f -> published(f, id, properties.modelId(), telemetry));
        return Flux.concat(
                tokens.map(c -> event("token", TokenEvent.of(c))),
                Mono.fromFuture(summary, true).map(s -> event("summary", SummaryEvent.of(s))));
    }

    @GetMapping(path = "/v1/gearbx/telemetry", produces = MediaType.TEXT_EVENT_STREAM_VALUE)
    Flux<ServerSentEvent<String>> telemetry() {
        return telemetry.events().map(e -> ServerSentEvent.builder(json(e)).build());
    }

    @GetMapping(path = "/v1/gearbx/thresholds", produces = MediaType.APPLICATION_JSON_VALUE)
    String thresholds() {
        return json(Map.of(properties.modelId(), model.thresholds()));
    }

    /** A bad {@code /generate} body: 400 with OpenAI's error JSON (its message names the field). */
    @ExceptionHandler(ResponseStatusException.class)
    ResponseEntity<String> badRequest(ResponseStatusException e) {
        return ResponseEntity.status(e.getStatusCode()).contentType(MediaType.APPLICATION_JSON)
                .body(json(new Responses.ErrorResponse(new Responses.ErrorBody(String.valueOf(e.getReason()),
                        "invalid_request_error", null, null))));
    }

    /** The tokens of a stream, each also published as telemetry, and its end. */
    static Flux<StreamChunk> published(Flux<StreamChunk> tokens, String id, String modelId, TelemetryHub telemetry) {
        return tokens
                .doOnNext(c -> telemetry.publish(new Responses.TelemetryEvent(id, modelId, c.index(), c.text(), telemetryOf(c), null)))
                .doOnComplete(() -> telemetry.publish(end(id, modelId, "stop")))
                .doOnError(e -> telemetry.publish(end(id, modelId, "error")))
                .doOnCancel(() -> telemetry.publish(end(id, modelId, "cancelled")));
    }

    static Responses.GearbxTelemetry telemetryOf(StreamChunk c) {
        return new Responses.GearbxTelemetry(c.entropy(), c.smoothedEntropy(), gearName(c), c.shifted(), c.stepNanos());
    }

    private static Responses.TelemetryEvent end(String id, String modelId, String reason) {
        return new Responses.TelemetryEvent(id, modelId, -1, "", null, reason);
    }

    private static String gearName(StreamChunk c) {
        return c.gear().name().toLowerCase(Locale.ROOT);
    }

    private static GenerateRequest parse(byte[] body) {
        try {
            return OpenAiJson.MAPPER.readValue(body, GenerateRequest.class);
        } catch (java.io.IOException e) {
            throw new ResponseStatusException(HttpStatus.BAD_REQUEST, "invalid /generate body: " + e.getMessage(), e);
        }
    }

    private static ServerSentEvent<String> event(String name, Object data) {
        return ServerSentEvent.builder(json(data)).event(name).build();
    }

    /** JSON with the wire format's mapper (snake_case, nulls left out). */
    static String json(Object o) {
        try {
            return OpenAiJson.MAPPER.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write " + o.getClass().getSimpleName() + " as JSON", e);
        }
    }
}
