package dev.gearbx.reactive.server;

import dev.gearbx.engine.generate.StopReason;
import dev.gearbx.engine.generate.TokenLogprob;
import dev.gearbx.reactive.GearbxModel;
import dev.gearbx.reactive.GearbxOperators;
import dev.gearbx.reactive.GenerationSummary;
import dev.gearbx.reactive.StreamChunk;
import dev.gearbx.reactive.openai.Responses;
import dev.gearbx.reactive.openai.Responses.GearbxTelemetry;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Runs one validated request on a model and shapes the result as OpenAI objects: the streamed
 * chunks (a role chunk for chat, one chunk per token, a finish chunk, the usage chunk when asked
 * for) or the whole completion. Each token is also published to the telemetry hub.
 */
final class Completions {
    private final ServedRequest request;
    private final GearbxModel model;
    private final String id;
    private final long created;
    private final TelemetryHub telemetry;
    private final CompletableFuture<GenerationSummary> summary = new CompletableFuture<>();

    Completions(ServedRequest request, GearbxModel model, String id, long created, TelemetryHub telemetry) {
        this.request = request;
        this.model = model;
        this.id = id;
        this.created = created;
        this.telemetry = telemetry;
    }

    /** The model's tokens, cut at a stop sequence, each published as telemetry. */
    private Flux<StreamChunk> tokens() {
        Flux<StreamChunk> f = request.chat()
                ? model.chat(request.messages(), request.options(), summary::complete)
                : model.stream(request.prompt(), request.options(), summary::complete);
        if (!request.stop().isEmpty()) {
            f = f.transform(GearbxOperators.stopSequences(request.stop().toArray(String[]::new)));
        }
        return f.doOnNext(c -> telemetry.publish(new Responses.TelemetryEvent(id, request.model(), c.index(), c.text(),
                        telemetryOf(c), null)))
                .doOnComplete(() -> publishEnd("done"))
                .doOnError(e -> publishEnd("error"))
                .doOnCancel(() -> publishEnd("cancelled"));
    }

    private void publishEnd(String reason) {
        telemetry.publish(new Responses.TelemetryEvent(id, request.model(), -1, "", null, reason));
    }

    /** The summary; within one step of the stream's end (a stop-sequence cut cancels the generation). */
    private Mono<GenerationSummary> summary() {
        return Mono.fromFuture(summary, true);
    }

    static String finishReason(GenerationSummary s) {
        return s.stopReason() == StopReason.MAX_TOKENS || s.stopReason() == StopReason.CONTEXT_FULL ? "length" : "stop";
    }

    private static Responses.Usage usage(GenerationSummary s) {
        return Responses.Usage.of(s.promptTokens(), s.tokens());
    }

    static GearbxTelemetry telemetryOf(StreamChunk c) {
        return new GearbxTelemetry(c.entropy(), c.smoothedEntropy(), c.gear().name().toLowerCase(Locale.ROOT), c.shifted(),
                c.stepNanos());
    }

    private static List<Integer> bytes(String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        List<Integer> out = new ArrayList<>(b.length);
        for (byte x : b) {
            out.add(x & 0xFF);
        }
        return out;
    }

    private Responses.TokenLogprobs chatLogprobs(StreamChunk c) {
        List<Responses.TopLogprob> top = new ArrayList<>(c.topLogprobs().size());
        for (TokenLogprob t : c.topLogprobs()) {
            top.add(new Responses.TopLogprob(t.text(), t.logProbability(), bytes(t.text())));
        }
        return new Responses.TokenLogprobs(c.text(), c.logProbability(), bytes(c.text()), top);
    }

    // ---- chat

    /** The streamed chat: role chunk, token chunks, finish chunk, usage chunk (when asked for). */
    Flux<Object> chatChunks() {
        Responses.ChatCompletionChunk role = chatChunk(new Responses.ChunkChoice(0, new Responses.Delta("assistant", ""),
                null, null), null, null);
        Flux<Object> tokens = tokens().map(c -> chatChunk(new Responses.ChunkChoice(0, new Responses.Delta(null, c.text()),
                request.logprobs() ? new Responses.ChatLogprobs(List.of(chatLogprobs(c))) : null, null), null, telemetryOf(c)));
        Flux<Object> end = summary().flatMapMany(s -> {
            Object finish = chatChunk(new Responses.ChunkChoice(0, new Responses.Delta(null, null), null, finishReason(s)),
                    null, null);
            return request.includeUsage()
                    ? Flux.just(finish, new Responses.ChatCompletionChunk(id, Responses.ChatCompletionChunk.OBJECT, created,
                            request.model(), List.of(), usage(s), null))
                    : Flux.just(finish);
        });
        return Flux.concat(Mono.just(role), tokens, end);
    }

    private Responses.ChatCompletionChunk chatChunk(Responses.ChunkChoice choice, Responses.@org.jspecify.annotations.Nullable Usage usage,
            @org.jspecify.annotations.Nullable GearbxTelemetry gearbx) {
        return new Responses.ChatCompletionChunk(id, Responses.ChatCompletionChunk.OBJECT, created, request.model(),
                List.of(choice), usage, gearbx);
    }

    /** The whole chat completion. */
    Mono<Responses.ChatCompletion> chatCompletion() {
        return tokens().collectList().zipWith(summary()).map(t -> {
            List<StreamChunk> chunks = t.getT1();
            GenerationSummary s = t.getT2();
            StringBuilder text = new StringBuilder();
            List<Responses.TokenLogprobs> logprobs = new ArrayList<>();
            for (StreamChunk c : chunks) {
                text.append(c.text());
                logprobs.add(chatLogprobs(c));
            }
            Responses.ChatChoice choice = new Responses.ChatChoice(0, new Responses.AssistantMessage("assistant", text.toString()),
                    request.logprobs() ? new Responses.ChatLogprobs(logprobs) : null, finishReason(s));
            return new Responses.ChatCompletion(id, Responses.ChatCompletion.OBJECT, created, request.model(), List.of(choice),
                    usage(s), gearbxSummary(s));
        });
    }

    private static Responses.GearbxSummary gearbxSummary(GenerationSummary s) {
        Map<String, Double> shares = new LinkedHashMap<>();
        s.gearShares().forEach((g, v) -> shares.put(g.name().toLowerCase(Locale.ROOT), v));
        return new Responses.GearbxSummary(shares, s.shifts(), s.tokensPerSecond());
    }

    // ---- completions

    private Responses.CompletionLogprobs completionLogprobs(List<StreamChunk> chunks, int offset) {
        List<String> tokens = new ArrayList<>();
        List<Float> lps = new ArrayList<>();
        List<Map<String, Float>> tops = new ArrayList<>();
        List<Integer> offsets = new ArrayList<>();
        int at = offset;
        for (StreamChunk c : chunks) {
            tokens.add(c.text());
            lps.add(c.logProbability());
            Map<String, Float> top = new LinkedHashMap<>();
            for (TokenLogprob t : c.topLogprobs()) {
                top.putIfAbsent(t.text(), t.logProbability());
            }
            tops.add(top);
            offsets.add(at);
            at += c.text().length();
        }
        return new Responses.CompletionLogprobs(tokens, lps, tops, offsets);
    }

    /** The streamed completion: token chunks, finish chunk, usage chunk (when asked for). */
    Flux<Object> completionChunks() {
        int[] offset = {0};
        Flux<Object> tokens = tokens().map(c -> {
            Responses.CompletionLogprobs lp = request.logprobs() ? completionLogprobs(List.of(c), offset[0]) : null;
            offset[0] += c.text().length();
            return new Responses.Completion(id, Responses.Completion.OBJECT, created, request.model(),
                    List.of(new Responses.CompletionChoice(0, c.text(), lp, null)), null, telemetryOf(c));
        });
        Flux<Object> end = summary().flatMapMany(s -> {
            Object finish = new Responses.Completion(id, Responses.Completion.OBJECT, created, request.model(),
                    List.of(new Responses.CompletionChoice(0, "", null, finishReason(s))), null, null);
            return request.includeUsage()
                    ? Flux.just(finish, new Responses.Completion(id, Responses.Completion.OBJECT, created, request.model(),
                            List.of(), usage(s), null))
                    : Flux.just(finish);
        });
        return Flux.concat(tokens, end);
    }

    /** The whole completion. */
    Mono<Responses.Completion> completion() {
        return tokens().collectList().zipWith(summary()).map(t -> {
            List<StreamChunk> chunks = t.getT1();
            StringBuilder text = new StringBuilder();
            chunks.forEach(c -> text.append(c.text()));
            return new Responses.Completion(id, Responses.Completion.OBJECT, created, request.model(),
                    List.of(new Responses.CompletionChoice(0, text.toString(),
                            request.logprobs() ? completionLogprobs(chunks, 0) : null, finishReason(t.getT2()))),
                    usage(t.getT2()), null);
        });
    }
}
