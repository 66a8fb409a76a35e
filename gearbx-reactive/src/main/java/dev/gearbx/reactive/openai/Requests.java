package dev.gearbx.reactive.openai;

import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Request bodies. Every field is nullable as parsed (absent means the server's default); the
 * server validates them and answers 400 naming the field. {@code ignore_eos} is an extension (as in
 * vLLM): generate past end-of-generation tokens, up to {@code max_tokens}.
 */
public final class Requests {
    private Requests() {}

    /** {@code stream_options}: {@code include_usage} adds a last chunk with the usage and no choices. */
    public record StreamOptionsParam(@Nullable Boolean includeUsage) {}

    /**
     * One chat message.
     *
     * @param role {@code system}, {@code user}, {@code assistant} or {@code tool}
     * @param content a string, or an array of parts of which the {@code text} ones are used
     */
    public record Message(@Nullable String role, @Nullable JsonNode content) {}

    /** Body of {@code POST /v1/chat/completions}. */
    public record ChatCompletionRequest(
            @Nullable String model,
            @Nullable List<Message> messages,
            @Nullable Boolean stream,
            @Nullable StreamOptionsParam streamOptions,
            @Nullable Integer maxTokens,
            @Nullable Integer maxCompletionTokens,
            @Nullable Float temperature,
            @Nullable Float topP,
            @Nullable Long seed,
            @JsonFormat(with = JsonFormat.Feature.ACCEPT_SINGLE_VALUE_AS_ARRAY) @Nullable List<String> stop,
            @Nullable Boolean logprobs,
            @Nullable Integer topLogprobs,
            @Nullable Integer n,
            @Nullable Boolean ignoreEos) {}

    /**
     * Body of {@code POST /v1/completions}.
     *
     * @param prompt a string (an array of one string is accepted too)
     * @param logprobs how many top log-probabilities per token (0 to 20; null for none)
     */
    public record CompletionRequest(
            @Nullable String model,
            @JsonFormat(with = JsonFormat.Feature.ACCEPT_SINGLE_VALUE_AS_ARRAY) @Nullable List<String> prompt,
            @Nullable Boolean stream,
            @Nullable StreamOptionsParam streamOptions,
            @Nullable Integer maxTokens,
            @Nullable Float temperature,
            @Nullable Float topP,
            @Nullable Long seed,
            @JsonFormat(with = JsonFormat.Feature.ACCEPT_SINGLE_VALUE_AS_ARRAY) @Nullable List<String> stop,
            @Nullable Integer logprobs,
            @Nullable Boolean echo,
            @Nullable Integer n,
            @Nullable Boolean ignoreEos) {}
}
