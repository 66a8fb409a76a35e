package dev.gearbx.examples.spring;

import dev.gearbx.reactive.server.TelemetryHub;
import com.fasterxml.jackson.databind.JsonNode;
import dev.gearbx.engine.generate.StopReason;
import dev.gearbx.engine.sampling.SamplingParams;
import dev.gearbx.reactive.GearbxModel;
import dev.gearbx.reactive.GenerationSummary;
import dev.gearbx.reactive.StreamChunk;
import dev.gearbx.reactive.StreamOptions;
import dev.gearbx.reactive.chat.ChatMessage;
import dev.gearbx.reactive.openai.OpenAiJson;
import dev.gearbx.reactive.openai.Requests;
import dev.gearbx.reactive.openai.Responses;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.web.reactive.function.BodyInserters;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * OpenAI-compatible {@code POST /v1/chat/completions} on the model bean, with the wire records of
 * {@code gearbx-reactive} ({@link Requests}, {@link Responses}): streamed ({@code "stream": true},
 * server-sent events ending with {@code data: [DONE]}, each token chunk carrying a {@code gearbx}
 * field with entropy and gear) or whole. Takes {@code model}, {@code messages} (text content),
 * {@code max_tokens}/{@code max_completion_tokens}, {@code temperature}, {@code top_p} and
 * {@code seed}; errors are OpenAI's JSON error objects naming the offending field.
 *
 * <pre>{@code
 * curl -N localhost:8080/v1/chat/completions -H 'Content-Type: application/json' \
 *   -d '{"model":"gearbx-demo","stream":true,"messages":[{"role":"user","content":"Say hi."}]}'
 * }</pre>
 */
@Configuration(proxyBeanMethods = false)
class ChatCompletionsHandler {
    private final GearbxModel model;
    private final GearbxProperties properties;
    private final TelemetryHub telemetry;

    ChatCompletionsHandler(GearbxModel model, GearbxProperties properties, TelemetryHub telemetry) {
        this.model = model;
        this.properties = properties;
        this.telemetry = telemetry;
    }

    @Bean
    RouterFunction<ServerResponse> chatCompletionsRoute() {
        return RouterFunctions.route().POST("/v1/chat/completions", this::handle).build();
    }

    /** A request error: OpenAI's 400/404 JSON, naming the field in {@code param}. */
    static final class ApiException extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final HttpStatus status;
        final @Nullable String param;

        ApiException(HttpStatus status, @Nullable String param, String message) {
            super(message);
            this.status = status;
            this.param = param;
        }
    }

    private Mono<ServerResponse> handle(ServerRequest request) {
        return request.bodyToMono(byte[].class).defaultIfEmpty(new byte[0]).flatMap(body -> {
            Requests.ChatCompletionRequest r = parse(body);
            List<ChatMessage> messages = messages(r);
            StreamOptions options = options(r);
            String id = "chatcmpl-" + UUID.randomUUID().toString().replace("-", "");
            long created = System.currentTimeMillis() / 1000;
            CompletableFuture<GenerationSummary> summary = new CompletableFuture<>();
            Flux<StreamChunk> tokens = model.chat(messages, options, summary::complete)
                    .transform(f -> GenerateController.published(f, id, properties.modelId(), telemetry));
            Mono<GenerationSummary> end = Mono.fromFuture(summary, true);
            if (Boolean.TRUE.equals(r.stream())) {
                Flux<ServerSentEvent<String>> events = Flux.concat(
                                Mono.just(chunk(id, created, new Responses.Delta("assistant", ""), null, null)),
                                tokens.map(c -> chunk(id, created, new Responses.Delta(null, c.text()), null,
                                        GenerateController.telemetryOf(c))),
                                end.map(s -> chunk(id, created, new Responses.Delta(null, null), finishReason(s), null)))
                        .map(o -> ServerSentEvent.builder(GenerateController.json(o)).build())
                        .concatWithValues(ServerSentEvent.builder("[DONE]").build());
                return ServerResponse.ok().contentType(MediaType.TEXT_EVENT_STREAM)
                        .body(BodyInserters.fromServerSentEvents(events));
            }
            return tokens.map(StreamChunk::text).collect(StringBuilder::new, StringBuilder::append).zipWith(end)
                    .flatMap(t -> ServerResponse.ok().contentType(MediaType.APPLICATION_JSON)
                            .bodyValue(GenerateController.json(completion(id, created, t.getT1().toString(), t.getT2()))));
        }).onErrorResume(ApiException.class, e -> ServerResponse.status(e.status).contentType(MediaType.APPLICATION_JSON)
                .bodyValue(GenerateController.json(new Responses.ErrorResponse(new Responses.ErrorBody(
                        String.valueOf(e.getMessage()), "invalid_request_error", e.param,
                        e.status == HttpStatus.NOT_FOUND ? "model_not_found" : null)))));
    }

    private Responses.ChatCompletionChunk chunk(String id, long created, Responses.Delta delta, @Nullable String finish,
            Responses.@Nullable GearbxTelemetry gearbx) {
        return new Responses.ChatCompletionChunk(id, Responses.ChatCompletionChunk.OBJECT, created, properties.modelId(),
                List.of(new Responses.ChunkChoice(0, delta, null, finish)), null, gearbx);
    }

    private Responses.ChatCompletion completion(String id, long created, String text, GenerationSummary s) {
        Map<String, Double> shares = new LinkedHashMap<>();
        s.gearShares().forEach((g, v) -> shares.put(g.name().toLowerCase(Locale.ROOT), v));
        return new Responses.ChatCompletion(id, Responses.ChatCompletion.OBJECT, created, properties.modelId(),
                List.of(new Responses.ChatChoice(0, new Responses.AssistantMessage("assistant", text), null, finishReason(s))),
                Responses.Usage.of(s.promptTokens(), s.tokens()),
                new Responses.GearbxSummary(shares, s.shifts(), s.tokensPerSecond()));
    }

    private static String finishReason(GenerationSummary s) {
        return s.stopReason() == StopReason.MAX_TOKENS || s.stopReason() == StopReason.CONTEXT_FULL ? "length" : "stop";
    }

    private static Requests.ChatCompletionRequest parse(byte[] body) {
        try {
            return OpenAiJson.MAPPER.readValue(body, Requests.ChatCompletionRequest.class);
        } catch (IOException e) {
            throw new ApiException(HttpStatus.BAD_REQUEST, null, "the request body is not a valid chat request: " + e.getMessage());
        }
    }

    private List<ChatMessage> messages(Requests.ChatCompletionRequest r) {
        if (r.model() == null || r.model().isBlank()) {
            throw new ApiException(HttpStatus.BAD_REQUEST, "model", "'model' is required");
        }
        if (!r.model().equals(properties.modelId())) {
            throw new ApiException(HttpStatus.NOT_FOUND, "model",
                    "The model '" + r.model() + "' does not exist; served: [" + properties.modelId() + "]");
        }
        if (r.messages() == null || r.messages().isEmpty()) {
            throw new ApiException(HttpStatus.BAD_REQUEST, "messages", "'messages' must be a non-empty array of messages");
        }
        List<ChatMessage> out = new ArrayList<>();
        for (int i = 0; i < r.messages().size(); i++) {
            Requests.Message m = r.messages().get(i);
            String param = "messages[" + i + "]";
            if (m == null || m.role() == null || m.role().isBlank()) {
                throw new ApiException(HttpStatus.BAD_REQUEST, param + ".role", "'" + param + ".role' is required");
            }
            JsonNode content = m.content();
            if (content != null && !content.isNull() && !content.isTextual()) {
                throw new ApiException(HttpStatus.BAD_REQUEST, param + ".content", "'" + param + ".content' must be a string");
            }
            out.add(new ChatMessage(m.role(), content == null || content.isNull() ? "" : content.textValue()));
        }
        return out;
    }

    private StreamOptions options(Requests.ChatCompletionRequest r) {
        Integer max = r.maxCompletionTokens() != null ? r.maxCompletionTokens() : r.maxTokens();
        if (max != null && max < 1) {
            throw new ApiException(HttpStatus.BAD_REQUEST, "max_tokens", "'max_tokens' must be at least 1, got " + max);
        }
        StreamOptions.Builder b = StreamOptions.builder().maxTokens(max != null ? max : properties.maxTokens());
        Float temperature = r.temperature();
        if (temperature != null && !(temperature >= 0 && temperature <= 2)) {
            throw new ApiException(HttpStatus.BAD_REQUEST, "temperature", "'temperature' must be between 0 and 2, got " + temperature);
        }
        if (r.topP() != null && !(r.topP() > 0 && r.topP() <= 1)) {
            throw new ApiException(HttpStatus.BAD_REQUEST, "top_p", "'top_p' must be in (0, 1], got " + r.topP());
        }
        if (temperature != null && temperature == 0) {
            b.sampling(SamplingParams.greedy());
        } else if (temperature != null || r.topP() != null || r.seed() != null) {
            SamplingParams.Builder s = SamplingParams.builder().temperature(temperature == null ? 1f : temperature)
                    .topP(r.topP() == null ? 1f : r.topP()).topK(0).minP(0f);
            if (r.seed() != null) {
                s.seed(r.seed());
            }
            b.sampling(s.build());
        }
        return b.build();
    }
}
