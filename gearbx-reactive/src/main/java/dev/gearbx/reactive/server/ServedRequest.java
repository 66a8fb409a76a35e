package dev.gearbx.reactive.server;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.gearbx.engine.generate.GenerationRequest;
import dev.gearbx.engine.sampling.SamplingParams;
import dev.gearbx.reactive.StreamOptions;
import dev.gearbx.reactive.chat.ChatMessage;
import dev.gearbx.reactive.openai.OpenAiJson;
import dev.gearbx.reactive.openai.Requests;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * A validated completion request, from either endpoint.
 *
 * @param model the model id asked for
 * @param chat whether it came to {@code /v1/chat/completions}
 * @param prompt the prompt ({@code /v1/completions}); empty for chat
 * @param messages the conversation (chat); empty otherwise
 * @param stream answer as server-sent events
 * @param includeUsage add a usage chunk before {@code [DONE]} ({@code stream_options.include_usage})
 * @param maxTokens token budget, or 0 for the model's default
 * @param sampling sampling settings, or null for the model's default
 * @param stop stop sequences (at most 4)
 * @param logprobs whether to report log-probabilities
 * @param topLogprobs top candidates per token, 0 to 20
 * @param ignoreEos generate past end-of-generation tokens (the {@code ignore_eos} extension)
 */
record ServedRequest(
        String model,
        boolean chat,
        String prompt,
        List<ChatMessage> messages,
        boolean stream,
        boolean includeUsage,
        int maxTokens,
        @Nullable SamplingParams sampling,
        List<String> stop,
        boolean logprobs,
        int topLogprobs,
        boolean ignoreEos) {

    private static final Set<String> ROLES = Set.of("system", "user", "assistant", "tool", "developer");
    private static final int MAX_STOPS = 4;

    StreamOptions options() {
        StreamOptions.Builder b = StreamOptions.builder().maxTokens(maxTokens).topLogprobs(topLogprobs)
                .stopAtEndOfGeneration(!ignoreEos);
        if (sampling != null) {
            b.sampling(sampling);
        }
        return b.build();
    }

    /** Parses and validates a {@code /v1/chat/completions} body. */
    static ServedRequest chat(byte[] body) {
        Requests.ChatCompletionRequest r = parse(body, Requests.ChatCompletionRequest.class);
        String model = requireModel(r.model());
        if (r.messages() == null || r.messages().isEmpty()) {
            throw ApiError.invalid("messages", "'messages' must be a non-empty array of messages");
        }
        List<ChatMessage> messages = new ArrayList<>();
        for (int i = 0; i < r.messages().size(); i++) {
            Requests.Message m = r.messages().get(i);
            String param = "messages[" + i + "]";
            if (m == null) {
                throw ApiError.invalid(param, "'" + param + "' must be a message object");
            }
            if (m.role() == null || !ROLES.contains(m.role())) {
                throw ApiError.invalid(param + ".role", "'" + param + ".role' must be one of " + ROLES + ", got "
                        + (m.role() == null ? "nothing" : "'" + m.role() + "'"));
            }
            messages.add(new ChatMessage(m.role(), content(m.content(), param + ".content")));
        }
        if (r.maxTokens() != null && r.maxCompletionTokens() != null && !r.maxTokens().equals(r.maxCompletionTokens())) {
            throw ApiError.invalid("max_tokens", "'max_tokens' and 'max_completion_tokens' disagree: "
                    + r.maxTokens() + " vs " + r.maxCompletionTokens());
        }
        Integer maxTokens = r.maxCompletionTokens() != null ? r.maxCompletionTokens() : r.maxTokens();
        boolean logprobs = Boolean.TRUE.equals(r.logprobs());
        int top = 0;
        if (r.topLogprobs() != null) {
            top = range("top_logprobs", r.topLogprobs(), 0, GenerationRequest.MAX_TOP_LOGPROBS);
            if (!logprobs) {
                throw ApiError.invalid("top_logprobs", "'top_logprobs' needs 'logprobs': true");
            }
        }
        checkN(r.n());
        return new ServedRequest(model, true, "", List.copyOf(messages), Boolean.TRUE.equals(r.stream()),
                includeUsage(r.stream(), r.streamOptions()), maxTokens(maxTokens, "max_tokens"),
                sampling(r.temperature(), r.topP(), r.seed()), stops(r.stop()), logprobs, top,
                Boolean.TRUE.equals(r.ignoreEos()));
    }

    /** Parses and validates a {@code /v1/completions} body. */
    static ServedRequest completion(byte[] body) {
        Requests.CompletionRequest r = parse(body, Requests.CompletionRequest.class);
        String model = requireModel(r.model());
        if (r.prompt() == null || r.prompt().size() != 1 || r.prompt().getFirst() == null) {
            throw ApiError.invalid("prompt", "'prompt' must be one string (several prompts per request are not supported)");
        }
        if (Boolean.TRUE.equals(r.echo())) {
            throw ApiError.invalid("echo", "'echo' is not supported");
        }
        int top = 0;
        if (r.logprobs() != null) {
            top = range("logprobs", r.logprobs(), 0, GenerationRequest.MAX_TOP_LOGPROBS);
        }
        checkN(r.n());
        return new ServedRequest(model, false, r.prompt().getFirst(), List.of(), Boolean.TRUE.equals(r.stream()),
                includeUsage(r.stream(), r.streamOptions()), maxTokens(r.maxTokens(), "max_tokens"),
                sampling(r.temperature(), r.topP(), r.seed()), stops(r.stop()), r.logprobs() != null, top,
                Boolean.TRUE.equals(r.ignoreEos()));
    }

    private static <T> T parse(byte[] body, Class<T> type) {
        if (body.length == 0) {
            throw ApiError.invalid(null, "the request body is empty; send a JSON object");
        }
        try {
            JsonNode tree = OpenAiJson.MAPPER.readTree(body);
            if (tree == null || !tree.isObject()) {
                throw ApiError.invalid(null, "the request body must be a JSON object");
            }
            return OpenAiJson.MAPPER.treeToValue(tree, type);
        } catch (JsonMappingException e) {
            String param = e.getPath().stream()
                    .map(ref -> ref.getFieldName() != null ? ref.getFieldName() : "[" + ref.getIndex() + "]")
                    .collect(Collectors.joining(".")).replace(".[", "[");
            if (param.isEmpty()) {
                throw ApiError.invalid(null, "invalid JSON body: " + e.getOriginalMessage());
            }
            throw ApiError.invalid(param, "invalid type for '" + param + "': " + e.getOriginalMessage(), "invalid_type");
        } catch (JacksonException e) {
            String detail = e instanceof JsonProcessingException p ? p.getOriginalMessage() : e.getMessage();
            throw ApiError.invalid(null, "the request body is not valid JSON: " + detail);
        } catch (java.io.IOException e) {
            throw ApiError.invalid(null, "the request body could not be read: " + e.getMessage());
        }
    }

    private static String requireModel(@Nullable String model) {
        if (model == null || model.isBlank()) {
            throw ApiError.invalid("model", "'model' is required");
        }
        return model;
    }

    private static String content(@Nullable JsonNode content, String param) {
        if (content == null || content.isNull()) {
            return "";
        }
        if (content.isTextual()) {
            return content.textValue();
        }
        if (content.isArray()) {
            StringBuilder sb = new StringBuilder();
            for (JsonNode part : content) {
                if (!part.isObject() || !"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
                    throw ApiError.invalid(param, "'" + param + "' parts must be {\"type\": \"text\", \"text\": ...}");
                }
                sb.append(part.get("text").textValue());
            }
            return sb.toString();
        }
        throw ApiError.invalid(param, "'" + param + "' must be a string or an array of text parts", "invalid_type");
    }

    private static boolean includeUsage(@Nullable Boolean stream, Requests.@Nullable StreamOptionsParam options) {
        if (options == null) {
            return false;
        }
        if (!Boolean.TRUE.equals(stream)) {
            throw ApiError.invalid("stream_options", "'stream_options' is only allowed with 'stream': true");
        }
        return Boolean.TRUE.equals(options.includeUsage());
    }

    private static int maxTokens(@Nullable Integer n, String param) {
        return n == null ? 0 : range(param, n, 1, Integer.MAX_VALUE);
    }

    private static void checkN(@Nullable Integer n) {
        if (n != null && n != 1) {
            throw ApiError.invalid("n", "'n' must be 1 (one choice per request), got " + n);
        }
    }

    private static int range(String param, int value, int min, int max) {
        if (value < min || value > max) {
            throw ApiError.invalid(param, "'" + param + "' must be " + (max == Integer.MAX_VALUE ? "at least " + min
                    : "between " + min + " and " + max) + ", got " + value, "invalid_value");
        }
        return value;
    }

    /**
     * OpenAI's sampling: temperature 0 is greedy; otherwise temperature and top_p only (no top-k,
     * min-p or repetition penalty). All three absent: the model's default sampling.
     */
    private static @Nullable SamplingParams sampling(@Nullable Float temperature, @Nullable Float topP, @Nullable Long seed) {
        if (temperature != null && !(temperature >= 0 && temperature <= 2)) {
            throw ApiError.invalid("temperature", "'temperature' must be between 0 and 2, got " + temperature, "invalid_value");
        }
        if (topP != null && !(topP > 0 && topP <= 1)) {
            throw ApiError.invalid("top_p", "'top_p' must be in (0, 1], got " + topP, "invalid_value");
        }
        if (temperature == null && topP == null && seed == null) {
            return null;
        }
        if (temperature != null && temperature == 0) {
            return SamplingParams.greedy();
        }
        SamplingParams.Builder b = SamplingParams.builder().temperature(temperature == null ? 1f : temperature)
                .topP(topP == null ? 1f : topP).topK(0).minP(0f);
        if (seed != null) {
            b.seed(seed);
        }
        return b.build();
    }

    private static List<String> stops(@Nullable List<String> stop) {
        if (stop == null) {
            return List.of();
        }
        if (stop.size() > MAX_STOPS) {
            throw ApiError.invalid("stop", "'stop' takes at most " + MAX_STOPS + " sequences, got " + stop.size());
        }
        for (String s : stop) {
            if (s == null || s.isEmpty()) {
                throw ApiError.invalid("stop", "'stop' sequences must be non-empty strings");
            }
        }
        return List.copyOf(stop);
    }
}
