package dev.gearbx.reactive.client;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.generate.GeneratedToken;
import dev.gearbx.engine.generate.GenerationRequest;
import dev.gearbx.engine.generate.GenerationResult;
import dev.gearbx.engine.generate.StopReason;
import dev.gearbx.engine.generate.TokenLogprob;
import dev.gearbx.engine.routing.TopKEntropy;
import dev.gearbx.reactive.openai.OpenAiJson;
import dev.gearbx.reactive.spi.Sequence;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.timeout.ReadTimeoutException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.client.PrematureCloseException;

/**
 * One streamed request as a {@link Sequence}. The HTTP response is read on Netty's threads and
 * turned into tokens in a small queue; the stream's compute thread takes them without ever waiting
 * ({@link #ready()}/{@link #whenReady}). At most {@value #READ_AHEAD} tokens are read ahead of the
 * consumer: past that, no more data is requested, so TCP holds the server back. The request is
 * sent at construction (when the stream's first demand opens the sequence); {@link #close()}
 * cancels it, which closes the connection.
 */
final class RemoteSequence implements Sequence {
    static final int READ_AHEAD = 16;
    /** Log-probabilities parsed from their decimal text, so that a float written by a server comes back bit for bit. */
    private static final ObjectMapper EXACT = OpenAiJson.MAPPER.copy().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

    private final String url;
    private final GenerationRequest request;
    private final Gear gear;
    private final boolean chat;
    private final SseDecoder decoder;
    private final long startNanos = System.nanoTime();
    private final int window;
    private final float[] recent;
    private final OpenAiBackend backend;

    // shared between Netty's thread (producer) and the compute thread (consumer): guarded by this
    private final ArrayDeque<GeneratedToken> queue = new ArrayDeque<>();
    private @Nullable RuntimeException failure;
    private boolean ended;
    private boolean paused;
    private @Nullable Runnable wakeUp;

    // producer side only
    private final Reader reader = new Reader();
    private long lastEventNanos = startNanos;
    private int produced;
    private int windowFill;
    private int windowAt;
    private volatile @Nullable String finishReason;
    private volatile int promptTokens;
    private volatile long firstTokenNanos;
    private volatile long lastTokenNanos;

    // consumer side only
    private final StringBuilder text = new StringBuilder();
    private int taken;
    private @Nullable StopReason stopReason;

    RemoteSequence(HttpClient http, String url, byte[] body, GenerationRequest request, Gear gear, boolean chat,
            OpenAiBackend backend) {
        this.url = url;
        this.request = request;
        this.gear = gear;
        this.chat = chat;
        this.backend = backend;
        this.decoder = new SseDecoder(backend.maxLineBytes());
        this.window = request.routing().window();
        this.recent = new float[window];
        Flux<byte[]> response = http.post().uri(url).send(Mono.fromSupplier(() -> Unpooled.wrappedBuffer(body)))
                .response((res, content) -> {
                    int status = res.status().code();
                    if (status / 100 != 2) {
                        return content.aggregate().asString(StandardCharsets.UTF_8).defaultIfEmpty("")
                                .flatMapMany(b -> Flux.error(new OpenAiHttpException(status, url, b)));
                    }
                    String type = res.responseHeaders().get(HttpHeaderNames.CONTENT_TYPE, "");
                    if (!type.toLowerCase(Locale.ROOT).startsWith("text/event-stream")) {
                        return content.aggregate().asString(StandardCharsets.UTF_8).defaultIfEmpty("")
                                .flatMapMany(b -> Flux.error(new OpenAiProtocolException("expected text/event-stream from "
                                        + url + ", got '" + type + "': " + SseDecoder.abbreviate(b))));
                    }
                    return content.asByteArray();
                });
        response.subscribe(reader);
    }

    // ---- consumer (the stream's compute thread)

    @Override
    public synchronized boolean ready() {
        return !queue.isEmpty() || ended || failure != null;
    }

    @Override
    public void whenReady(Runnable wakeUp) {
        boolean now;
        synchronized (this) {
            now = ready();
            this.wakeUp = now ? null : wakeUp;
        }
        if (now) {
            wakeUp.run();
        }
    }

    @Override
    public boolean hasNext() {
        if (stopReason != null) {
            return false;
        }
        synchronized (this) {
            while (queue.isEmpty() && !ended && failure == null) {
                try {
                    wait(); // only a caller that did not check ready() waits; the stream never does
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new OpenAiConnectionException("interrupted while waiting for " + url, e);
                }
            }
        }
        if (taken >= request.maxTokens()) {
            // the budget is spent (the server's usage and [DONE] came, or it sends more than asked)
            finish(StopReason.MAX_TOKENS);
            return false;
        }
        synchronized (this) {
            if (!queue.isEmpty()) {
                return true;
            }
            if (failure != null) {
                RuntimeException f = failure;
                stopReason = StopReason.CANCELLED;
                throw f;
            }
        }
        finish("length".equals(finishReason) ? StopReason.MAX_TOKENS : StopReason.END_OF_GENERATION);
        return false;
    }

    @Override
    public GeneratedToken next() {
        if (!hasNext()) {
            throw new NoSuchElementException("the remote stream has ended: " + stopReason);
        }
        GeneratedToken t;
        boolean resume = false;
        synchronized (this) {
            t = queue.poll();
            if (paused && queue.size() < READ_AHEAD / 2) {
                paused = false;
                resume = true;
            }
        }
        taken++;
        text.append(t.text());
        if (resume) {
            reader.request(1);
        }
        return t;
    }

    private void finish(StopReason reason) {
        stopReason = reason;
        reader.dispose(); // no-op once the response completed
    }

    @Override
    public GenerationResult result() {
        int[] ids = new int[taken];
        Arrays.fill(ids, -1);
        long decode = taken == 0 ? 0 : lastTokenNanos - firstTokenNanos;
        return new GenerationResult(text.toString(), ids, promptTokens, stopReason == null ? StopReason.CANCELLED : stopReason,
                firstTokenNanos, firstTokenNanos, decode, taken == 0 ? Map.of() : Map.of(gear, taken), 0,
                backend.thresholds());
    }

    /** Tokens taken so far (a remote step is one token; the server's forward passes are not known). */
    @Override
    public long forwardPasses() {
        return taken;
    }

    /** The KV cache lives on the server: 0 here. */
    @Override
    public long kvCacheBytes() {
        return 0;
    }

    @Override
    public void close() {
        if (stopReason == null) {
            stopReason = StopReason.CANCELLED;
        }
        reader.dispose(); // cancels the response: the connection is closed
    }

    // ---- producer (Netty's thread)

    private void offer(List<GeneratedToken> tokens) {
        Runnable w;
        synchronized (this) {
            queue.addAll(tokens);
            w = takeWakeUp();
        }
        if (w != null) {
            w.run();
        }
    }

    private void terminate(@Nullable RuntimeException error) {
        Runnable w;
        synchronized (this) {
            if (ended || failure != null) {
                return;
            }
            if (error != null) {
                failure = error;
            } else {
                ended = true;
            }
            w = takeWakeUp();
            notifyAll();
        }
        if (w != null) {
            w.run();
        }
    }

    private @Nullable Runnable takeWakeUp() {
        notifyAll();
        Runnable w = wakeUp;
        if (w != null && ready()) {
            wakeUp = null;
            return w;
        }
        return null;
    }

    private final class Reader extends BaseSubscriber<byte[]> {
        private boolean done;

        @Override
        protected void hookOnSubscribe(Subscription subscription) {
            subscription.request(1);
        }

        @Override
        protected void hookOnNext(byte[] bytes) {
            if (done) {
                request(1); // after [DONE]: read to the end of the response
                return;
            }
            List<GeneratedToken> tokens = new ArrayList<>();
            try {
                for (String data : decoder.feed(bytes)) {
                    if (data.equals("[DONE]")) {
                        done = true;
                        break;
                    }
                    event(data, tokens);
                }
            } catch (OpenAiException e) {
                offer(tokens);
                fail(e);
                return;
            }
            offer(tokens);
            if (done) {
                terminate(null);
                request(1);
                return;
            }
            boolean pause;
            synchronized (RemoteSequence.this) {
                pause = queue.size() >= READ_AHEAD;
                paused = pause;
            }
            if (!pause) {
                request(1);
            }
        }

        private void fail(RuntimeException e) {
            done = true;
            terminate(e);
            dispose();
        }

        @Override
        protected void hookOnComplete() {
            if (done) {
                return;
            }
            done = true;
            if (decoder.pending() || finishReason == null) {
                terminate(new OpenAiProtocolException("the stream from " + url
                        + " ended without data: [DONE] or a finish reason (truncated)"));
            } else {
                terminate(null);
            }
        }

        @Override
        protected void hookOnError(Throwable e) {
            done = true;
            terminate(translate(e));
        }
    }

    private RuntimeException translate(Throwable e) {
        if (e instanceof OpenAiException o) {
            return o;
        }
        if (e instanceof PrematureCloseException) {
            return new OpenAiConnectionException("the server closed the connection mid-stream: " + url, e);
        }
        if (e instanceof ReadTimeoutException) {
            return new OpenAiConnectionException("no data from " + url + " within the read timeout of "
                    + backend.readTimeout(), e);
        }
        if (e instanceof IOException || e.getCause() instanceof IOException) {
            return new OpenAiConnectionException("connection to " + url + " failed: " + e, e);
        }
        return new OpenAiConnectionException("the request to " + url + " failed: " + e, e);
    }

    // ---- events

    private void event(String data, List<GeneratedToken> out) {
        JsonNode root;
        try {
            root = EXACT.readTree(data);
        } catch (IOException e) {
            throw new OpenAiProtocolException("malformed JSON in an event from " + url + ": '"
                    + SseDecoder.abbreviate(data) + "'", e);
        }
        if (root == null || !root.isObject()) {
            throw new OpenAiProtocolException("an event from " + url + " is not a JSON object: '"
                    + SseDecoder.abbreviate(data) + "'");
        }
        if (root.has("error")) {
            throw new OpenAiHttpException(200, url, data);
        }
        JsonNode usage = root.path("usage");
        if (usage.path("prompt_tokens").isIntegralNumber()) {
            promptTokens = usage.get("prompt_tokens").intValue();
        }
        JsonNode choices = root.path("choices");
        if (!choices.isArray()) {
            throw new OpenAiProtocolException("an event from " + url + " has no 'choices' array: '"
                    + SseDecoder.abbreviate(data) + "'");
        }
        if (choices.isEmpty()) {
            return; // the usage chunk
        }
        JsonNode choice = choices.get(0);
        if (choice.path("finish_reason").isTextual()) {
            finishReason = choice.get("finish_reason").textValue();
        }
        if (chat) {
            chatTokens(choice, out);
        } else {
            completionTokens(choice, out);
        }
    }

    private void chatTokens(JsonNode choice, List<GeneratedToken> out) {
        String content = text(choice.path("delta").path("content"), "choices[0].delta.content");
        JsonNode entries = choice.path("logprobs").path("content");
        if (entries.isArray() && !entries.isEmpty()) {
            List<String> texts = split(content, entries, e -> e.path("token").asText(""));
            for (int i = 0; i < entries.size(); i++) {
                JsonNode e = entries.get(i);
                List<TokenLogprob> top = new ArrayList<>();
                for (JsonNode t : e.path("top_logprobs")) {
                    top.add(new TokenLogprob(-1, t.path("token").asText(""), number(t.path("logprob"), "top_logprobs[].logprob")));
                }
                out.add(token(texts.get(i), number(e.path("logprob"), "logprobs.content[].logprob"), top));
            }
        } else if (!content.isEmpty()) {
            out.add(token(content, Float.NaN, List.of()));
        }
    }

    private void completionTokens(JsonNode choice, List<GeneratedToken> out) {
        String content = text(choice.path("text"), "choices[0].text");
        JsonNode lp = choice.path("logprobs");
        JsonNode tokens = lp.path("tokens");
        if (tokens.isArray() && !tokens.isEmpty()) {
            List<String> texts = split(content, tokens, t -> t.asText(""));
            for (int i = 0; i < tokens.size(); i++) {
                List<TokenLogprob> top = new ArrayList<>();
                JsonNode map = lp.path("top_logprobs").path(i);
                for (Map.Entry<String, JsonNode> e : map.properties()) {
                    top.add(new TokenLogprob(-1, e.getKey(), number(e.getValue(), "top_logprobs[]")));
                }
                JsonNode p = lp.path("token_logprobs").path(i);
                out.add(token(texts.get(i), p.isNumber() ? number(p, "token_logprobs[]") : Float.NaN, top));
            }
        } else if (!content.isEmpty()) {
            out.add(token(content, Float.NaN, List.of()));
        }
    }

    /**
     * The text of each of n tokens of one chunk: the chunk's text itself for one token; for several,
     * their own token strings when they add up to the chunk's text, else all of it on the first.
     */
    private static List<String> split(String content, JsonNode entries, java.util.function.Function<JsonNode, String> token) {
        if (entries.size() == 1) {
            return List.of(content);
        }
        List<String> parts = new ArrayList<>();
        StringBuilder joined = new StringBuilder();
        for (JsonNode e : entries) {
            String t = token.apply(e);
            parts.add(t);
            joined.append(t);
        }
        if (joined.toString().equals(content)) {
            return parts;
        }
        List<String> lumped = new ArrayList<>();
        for (int i = 0; i < entries.size(); i++) {
            lumped.add(i == 0 ? content : "");
        }
        return lumped;
    }

    private String text(JsonNode node, String field) {
        if (node.isMissingNode() || node.isNull()) {
            return "";
        }
        if (!node.isTextual()) {
            throw new OpenAiProtocolException("'" + field + "' from " + url + " is not a string: " + node);
        }
        return node.textValue();
    }

    private float number(JsonNode node, String field) {
        if (!node.isNumber()) {
            throw new OpenAiProtocolException("'" + field + "' from " + url + " is not a number: " + node);
        }
        // from the decimal text: Float.parseFloat rounds once, as the server's float was written
        return node.isBigDecimal() ? Float.parseFloat(node.decimalValue().toString()) : node.floatValue();
    }

    private GeneratedToken token(String piece, float logProbability, List<TokenLogprob> top) {
        long now = System.nanoTime();
        float entropy = top.isEmpty() ? Float.NaN : TopKEntropy.bits(top, TokenLogprob::logProbability);
        float smoothed = Float.NaN;
        if (!Float.isNaN(entropy)) {
            recent[windowAt] = entropy;
            windowAt = (windowAt + 1) % window;
            windowFill = Math.min(window, windowFill + 1);
            double sum = 0;
            for (int i = 0; i < windowFill; i++) {
                sum += recent[i];
            }
            smoothed = (float) (sum / windowFill);
        }
        if (produced == 0) {
            firstTokenNanos = now - startNanos;
        }
        lastTokenNanos = now - startNanos;
        long step = now - lastEventNanos;
        lastEventNanos = now;
        return new GeneratedToken(produced++, -1, piece, logProbability, entropy, smoothed, gear, false, step, top);
    }
}
