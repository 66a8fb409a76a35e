package dev.gearbx.reactive.openai;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Response bodies and streamed chunks, in the shapes OpenAI documents:
 * {@code chat.completion}, {@code chat.completion.chunk} (with {@code choices[].delta} and
 * {@code choices[].logprobs.content[].top_logprobs[]}), {@code text_completion} (with the legacy
 * {@code logprobs} object), {@code list} of {@code model}, and the error object.
 */
public final class Responses {
    private Responses() {}

    /** Token counts of a request. */
    public record Usage(int promptTokens, int completionTokens, int totalTokens) {
        public static Usage of(int prompt, int completion) {
            return new Usage(prompt, completion, prompt + completion);
        }
    }

    /**
     * gearbx's extra field on a chunk (ignored by OpenAI clients): the routing telemetry of the
     * chunk's token.
     *
     * @param entropy entropy in bits of the distribution the token was drawn from (the full one)
     * @param smoothedEntropy the entropy window's average after the step
     * @param gear {@code low}, {@code mid} or {@code high}
     * @param shifted whether the step ran at another gear than the one before
     * @param stepNanos the step's duration
     */
    public record GearbxTelemetry(float entropy, float smoothedEntropy, String gear, boolean shifted, long stepNanos) {}

    /** A candidate token: {@code {"token", "logprob", "bytes"}}. */
    public record TopLogprob(String token, float logprob, List<Integer> bytes) {}

    /** One generated token in {@code logprobs.content[]}. */
    public record TokenLogprobs(String token, float logprob, List<Integer> bytes, List<TopLogprob> topLogprobs) {}

    /** {@code choices[].logprobs} of the chat API. */
    public record ChatLogprobs(List<TokenLogprobs> content) {}

    /** {@code choices[].delta}: the role in the first chunk, then content pieces. */
    public record Delta(@Nullable String role, @Nullable String content) {}

    /** A choice of a {@code chat.completion.chunk}; {@code logprobs} and {@code finish_reason} are written even when null. */
    public record ChunkChoice(
            int index,
            Delta delta,
            @JsonInclude(JsonInclude.Include.ALWAYS) @Nullable ChatLogprobs logprobs,
            @JsonInclude(JsonInclude.Include.ALWAYS) @Nullable String finishReason) {}

    /** {@code object: "chat.completion.chunk"}; the usage-only last chunk has no choices. */
    public record ChatCompletionChunk(
            String id,
            String object,
            long created,
            String model,
            List<ChunkChoice> choices,
            @Nullable Usage usage,
            @Nullable GearbxTelemetry gearbx) {
        public static final String OBJECT = "chat.completion.chunk";
    }

    /** The assistant's message of a non-streamed chat completion. */
    public record AssistantMessage(String role, String content) {}

    /** A choice of a {@code chat.completion}. */
    public record ChatChoice(
            int index,
            AssistantMessage message,
            @JsonInclude(JsonInclude.Include.ALWAYS) @Nullable ChatLogprobs logprobs,
            @Nullable String finishReason) {}

    /**
     * gearbx's extra field on a whole completion: the gear shares and speed.
     *
     * @param gearShares share of tokens per gear, e.g. {@code {"low": 0.8, "mid": 0.2}}
     */
    public record GearbxSummary(Map<String, Double> gearShares, long shifts, double tokensPerSecond) {}

    /** {@code object: "chat.completion"}. */
    public record ChatCompletion(
            String id,
            String object,
            long created,
            String model,
            List<ChatChoice> choices,
            Usage usage,
            @Nullable GearbxSummary gearbx) {
        public static final String OBJECT = "chat.completion";
    }

    /**
     * The legacy {@code logprobs} object of {@code /v1/completions}: parallel lists per token, the
     * top candidates as a map from token text to log-probability.
     */
    public record CompletionLogprobs(
            List<String> tokens,
            List<Float> tokenLogprobs,
            List<Map<String, Float>> topLogprobs,
            List<Integer> textOffset) {}

    /** A choice of a {@code text_completion} (streamed or not). */
    public record CompletionChoice(
            int index,
            String text,
            @JsonInclude(JsonInclude.Include.ALWAYS) @Nullable CompletionLogprobs logprobs,
            @JsonInclude(JsonInclude.Include.ALWAYS) @Nullable String finishReason) {}

    /** {@code object: "text_completion"}, for the whole completion and for each streamed chunk. */
    public record Completion(
            String id,
            String object,
            long created,
            String model,
            List<CompletionChoice> choices,
            @Nullable Usage usage,
            @Nullable GearbxTelemetry gearbx) {
        public static final String OBJECT = "text_completion";
    }

    /** An entry of {@code GET /v1/models}. */
    public record ModelInfo(String id, String object, long created, String ownedBy) {
        public static ModelInfo of(String id, long created) {
            return new ModelInfo(id, "model", created, "gearbx");
        }
    }

    /** {@code object: "list"} of models. */
    public record ModelList(String object, List<ModelInfo> data) {
        public static ModelList of(List<ModelInfo> models) {
            return new ModelList("list", List.copyOf(models));
        }
    }

    /** The error object: {@code {"message", "type", "param", "code"}}, param and code written even when null. */
    public record ErrorBody(
            String message,
            String type,
            @JsonInclude(JsonInclude.Include.ALWAYS) @Nullable String param,
            @JsonInclude(JsonInclude.Include.ALWAYS) @Nullable String code) {}

    /** {@code {"error": {...}}}. */
    public record ErrorResponse(ErrorBody error) {}

    /**
     * One event of {@code GET /v1/gearbx/telemetry}: a token of an active stream (with its
     * telemetry), or the stream's end (with its finish reason).
     *
     * @param stream the completion's id ({@code chatcmpl-...} or {@code cmpl-...})
     * @param model the model id
     * @param index the token's index, or the number of tokens at the end
     * @param text the token's text (empty at the end)
     * @param gearbx the token's telemetry (null at the end)
     * @param finishReason null for a token; {@code stop}, {@code length}, {@code cancelled} or {@code error} at the end
     */
    public record TelemetryEvent(
            String stream,
            String model,
            int index,
            String text,
            @Nullable GearbxTelemetry gearbx,
            @Nullable String finishReason) {}
}
