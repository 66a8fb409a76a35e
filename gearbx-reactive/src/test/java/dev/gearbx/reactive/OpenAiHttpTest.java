package dev.gearbx.reactive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.generate.StopReason;
import dev.gearbx.engine.generate.TokenLogprob;
import dev.gearbx.engine.routing.RoutingOptions;
import dev.gearbx.engine.routing.TopKEntropy;
import dev.gearbx.reactive.chat.ChatMessage;
import dev.gearbx.reactive.client.OpenAiBackend;
import dev.gearbx.reactive.openai.OpenAiJson;
import dev.gearbx.reactive.server.GearbxServer;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.util.function.Tuple2;

/**
 * Issue 9: gearbx's OpenAI-compatible server and the OpenAI client backend, against each other over
 * real HTTP on 127.0.0.1 with the real stories260K model.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpenAiHttpTest {
    static final Duration TIMEOUT = Duration.ofSeconds(20);
    static final String ID = "stories260K";
    static final StreamOptions GREEDY_32 = StreamOptions.builder().maxTokens(32).build();

    GearbxModel local;
    GearbxServer server;
    GearbxModel remote;
    HttpClient http;

    @BeforeAll
    void start() {
        // greedy, pinned at HIGH: reproduces the reference text of ../shared/models/README.md
        local = Gearbx.builder().model(ReactiveModels.stories260K()).routing(RoutingOptions.pinned(Gear.HIGH)).build();
        server = GearbxServer.builder().model(GearbxServer.modelId(ReactiveModels.stories260K()), local)
                .maxBodyBytes(64 * 1024).start();
        remote = Gearbx.builder().remote(OpenAiBackend.builder(server.baseUrl()).model(ID).build())
                .routing(RoutingOptions.pinned(Gear.HIGH)).build();
        http = HttpClient.create().baseUrl("http://127.0.0.1:" + server.port());
    }

    @AfterAll
    void stop() {
        remote.close();
        server.close();
        local.close();
    }

    // ---- the client against the server

    @Test
    void clientStreamsTheLocalEnginesGreedyText() {
        String viaHttp = text(remote.stream("Once upon a time", GREEDY_32));
        String direct = text(local.stream("Once upon a time", GREEDY_32));
        assertEquals(ReactiveModels.REFERENCE, direct);
        assertEquals(direct, viaHttp);
        List<StreamChunk> chunks = remote.stream("Once upon a time", GREEDY_32).collectList().block(TIMEOUT);
        assertEquals(32, chunks.size(), "one chunk per token");
        assertTrue(chunks.stream().allMatch(c -> c.gear() == Gear.HIGH && c.tokenId() == -1));
        GenerationSummary s = remote.generate("Once upon a time", GREEDY_32).block(TIMEOUT);
        assertEquals(StopReason.MAX_TOKENS, s.stopReason());
        assertEquals(5, s.promptTokens(), "from the usage chunk: BOS + 4 prompt tokens");
        assertEquals(ReactiveModels.REFERENCE, s.text());
    }

    @Test
    void entropyFromTopLogprobsEqualsTheEnginesTruncatedEntropy() throws Exception {
        List<ChatMessage> messages = List.of(ChatMessage.user("Once upon a time"));
        // the engine's own chunks of the very generation the server streams (seen through a listener)
        List<StreamChunk> engine = new CopyOnWriteArrayList<>();
        List<StreamChunk> client;
        try (AutoCloseable l = local.addListener(new GenerationListener() {
            @Override
            public void token(StreamChunk chunk) {
                engine.add(chunk);
            }
        })) {
            client = remote.chat(messages, StreamOptions.builder().maxTokens(24).build()).collectList().block(TIMEOUT);
        }
        assertEquals(24, client.size());
        assertEquals(engine.size(), client.size());
        for (int i = 0; i < engine.size(); i++) {
            StreamChunk e = engine.get(i);
            StreamChunk c = client.get(i);
            assertEquals(20, e.topLogprobs().size(), "the server asked the engine for the client's top_logprobs");
            assertEquals(e.text(), c.text(), "token " + i);
            assertEquals(e.logProbability(), c.logProbability(), "log-probability of token " + i + ", bit for bit");
            assertEquals(20, c.topLogprobs().size());
            float truncated = TopKEntropy.bits(e.topLogprobs(), TokenLogprob::logProbability);
            assertEquals(truncated, c.entropy(), "truncated entropy of token " + i + ", bit for bit");
            assertTrue(c.entropy() <= e.entropy() + 1e-4f, "a lower bound of the full entropy");
        }
        // and a separate local run agrees on the text (its floats may differ in the last bits: the
        // Vector API's lane reductions are not ordered, so JIT state can change rounding)
        List<StreamChunk> direct = local.chat(messages, StreamOptions.builder().maxTokens(24).topLogprobs(20).build())
                .collectList().block(TIMEOUT);
        for (int i = 0; i < direct.size(); i++) {
            assertEquals(direct.get(i).text(), client.get(i).text());
            assertEquals(TopKEntropy.bits(direct.get(i).topLogprobs(), TokenLogprob::logProbability), client.get(i).entropy(),
                    1e-4f);
        }
    }

    @Test
    void thirtyTwoConcurrentStreamsAllComplete() {
        StreamOptions eight = StreamOptions.builder().maxTokens(8).build();
        String expected = text(local.stream("Once upon a time", eight));
        List<String> texts = Flux.range(0, 32)
                .flatMap(i -> remote.stream("Once upon a time", eight).map(StreamChunk::text).reduce("", String::concat), 32)
                .collectList().block(Duration.ofSeconds(30));
        assertEquals(32, texts.size());
        assertTrue(ReactiveModels.REFERENCE.startsWith(expected));
        assertTrue(texts.stream().allMatch(expected::equals), texts.toString());
        awaitCondition(() -> local.liveSequences() == 0);
    }

    @Test
    void aClientKilledMidStreamFreesItsKvCache() {
        List<GenerationSummary> ended = new CopyOnWriteArrayList<>();
        List<Long> kvWhileRunning = new CopyOnWriteArrayList<>();
        try (AutoCloseable l = local.addListener(new GenerationListener() {
            @Override
            public void ended(@Nullable GenerationSummary summary, @Nullable Throwable error) {
                if (summary != null) {
                    ended.add(summary);
                }
            }
        })) {
            // a raw client reads three events, then stops reading and is killed (its connection closed)
            String body = "{\"model\":\"" + ID + "\",\"prompt\":\"Once upon a time\",\"max_tokens\":1500,\"stream\":true,"
                    + "\"logprobs\":20,\"temperature\":0,\"ignore_eos\":true}";
            List<String> events = new CopyOnWriteArrayList<>();
            var killed = http.post().uri("/v1/completions").send(Mono.just(Unpooled.copiedBuffer(body, StandardCharsets.UTF_8)))
                    .response((res, content) -> content.asString())
                    .subscribe(events::add);
            awaitCondition(() -> events.size() >= 3);
            kvWhileRunning.add(local.kvCacheBytes());
            assertEquals(1, local.liveSequences(), "the generation is alive, held back by the unread connection");
            killed.dispose();
            awaitCondition(() -> local.liveSequences() == 0);
            assertTrue(kvWhileRunning.getFirst() > 0, "it held a KV cache");
            assertEquals(0, local.kvCacheBytes(), "the KV cache is freed");
            // the stream's own end is counted a moment after its sequence closes (failed once under load with 1)
            awaitCondition(() -> local.activeStreams() == 0);
            awaitCondition(() -> !ended.isEmpty());
            assertEquals(StopReason.CANCELLED, ended.getFirst().stopReason());
            assertTrue(ended.getFirst().tokens() < 1500, "stopped early: " + ended.getFirst().tokens());

            // cancelling the client backend's stream closes its HTTP stream: the server cancels too
            ended.clear();
            List<StreamChunk> three = remote.stream("Once upon a time", StreamOptions.builder().maxTokens(1500)
                    .stopAtEndOfGeneration(false).build()).take(3).collectList().block(TIMEOUT);
            assertEquals(3, three.size());
            awaitCondition(() -> !ended.isEmpty() && local.liveSequences() == 0);
            assertEquals(StopReason.CANCELLED, ended.getFirst().stopReason());
            assertEquals(0, local.kvCacheBytes());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    // ---- the server's shapes

    @Test
    void streamedChatChunksHaveOpenAisShape() {
        List<JsonNode> events = sse("/v1/chat/completions", "{\"model\":\"" + ID + "\",\"messages\":[{\"role\":\"user\","
                + "\"content\":\"Once upon a time\"}],\"max_tokens\":8,\"stream\":true,\"logprobs\":true,\"top_logprobs\":3,"
                + "\"stream_options\":{\"include_usage\":true}}");
        // role chunk, 8 token chunks, finish chunk, usage chunk ([DONE] checked by sse())
        assertEquals(11, events.size());
        for (JsonNode e : events) {
            assertEquals("chat.completion.chunk", e.get("object").asText());
            assertTrue(e.get("id").asText().startsWith("chatcmpl-"));
            assertEquals(ID, e.get("model").asText());
            assertTrue(e.get("created").isIntegralNumber());
        }
        assertEquals("assistant", events.get(0).at("/choices/0/delta/role").asText());
        for (int i = 1; i <= 8; i++) {
            JsonNode choice = events.get(i).at("/choices/0");
            assertTrue(choice.get("delta").get("content").isTextual());
            assertTrue(choice.has("finish_reason") && choice.get("finish_reason").isNull());
            JsonNode token = choice.at("/logprobs/content/0");
            assertTrue(token.get("logprob").isNumber());
            assertTrue(token.get("bytes").isArray());
            assertEquals(3, token.get("top_logprobs").size());
            JsonNode top = token.at("/top_logprobs/0");
            assertTrue(top.get("token").isTextual() && top.get("logprob").isNumber() && top.get("bytes").isArray());
            JsonNode g = events.get(i).get("gearbx");
            assertEquals("high", g.get("gear").asText());
            assertTrue(g.get("entropy").isNumber());
        }
        assertEquals("length", events.get(9).at("/choices/0/finish_reason").asText());
        assertEquals(0, events.get(10).get("choices").size());
        int prompt = events.get(10).at("/usage/prompt_tokens").asInt();
        assertTrue(prompt > 5, "the chat template's prompt is longer than the message: " + prompt);
        assertEquals(8, events.get(10).at("/usage/completion_tokens").asInt());
        assertEquals(prompt + 8, events.get(10).at("/usage/total_tokens").asInt());
    }

    @Test
    void wholeResponsesHaveOpenAisShape() {
        Tuple2<Integer, JsonNode> chat = post("/v1/chat/completions", "{\"model\":\"" + ID + "\",\"messages\":[{\"role\":"
                + "\"user\",\"content\":\"Once upon a time\"}],\"max_tokens\":4,\"logprobs\":true,\"top_logprobs\":2}");
        assertEquals(200, chat.getT1());
        JsonNode c = chat.getT2();
        assertEquals("chat.completion", c.get("object").asText());
        assertEquals("assistant", c.at("/choices/0/message/role").asText());
        assertEquals(4, c.at("/choices/0/logprobs/content").size());
        assertEquals(2, c.at("/choices/0/logprobs/content/0/top_logprobs").size());
        assertEquals("length", c.at("/choices/0/finish_reason").asText());
        assertEquals(4, c.at("/usage/completion_tokens").asInt());

        Tuple2<Integer, JsonNode> completion = post("/v1/completions", "{\"model\":\"" + ID + "\",\"prompt\":\"Once upon a time\","
                + "\"max_tokens\":32,\"temperature\":0,\"logprobs\":2}");
        assertEquals(200, completion.getT1());
        JsonNode t = completion.getT2();
        assertEquals("text_completion", t.get("object").asText());
        assertEquals(ReactiveModels.REFERENCE, t.at("/choices/0/text").asText());
        assertEquals(32, t.at("/choices/0/logprobs/tokens").size());
        assertEquals(32, t.at("/choices/0/logprobs/token_logprobs").size());
        assertEquals(5, t.at("/usage/prompt_tokens").asInt());

        Tuple2<Integer, JsonNode> stopped = post("/v1/completions", "{\"model\":\"" + ID + "\",\"prompt\":\"Once upon a time\","
                + "\"max_tokens\":32,\"stop\":[\"Lily\"]}");
        assertEquals(", there was a little girl named ", stopped.getT2().at("/choices/0/text").asText());
        assertEquals("stop", stopped.getT2().at("/choices/0/finish_reason").asText());

        String seeded = "{\"model\":\"" + ID + "\",\"prompt\":\"Once upon a time\",\"max_tokens\":24,"
                + "\"temperature\":1.2,\"top_p\":0.9,\"seed\":11}";
        assertEquals(post("/v1/completions", seeded).getT2().at("/choices/0/text").asText(),
                post("/v1/completions", seeded).getT2().at("/choices/0/text").asText(), "the same seed, the same text");

        Tuple2<Integer, JsonNode> models = get("/v1/models");
        assertEquals("list", models.getT2().get("object").asText());
        assertEquals(ID, models.getT2().at("/data/0/id").asText());
        assertEquals("model", models.getT2().at("/data/0/object").asText());

        List<JsonNode> streamed = sse("/v1/completions", "{\"model\":\"" + ID + "\",\"prompt\":\"Once upon a time\","
                + "\"max_tokens\":3,\"stream\":true}");
        assertEquals(4, streamed.size());
        assertTrue(streamed.stream().allMatch(e -> e.get("object").asText().equals("text_completion")));
    }

    @Test
    void invalidRequestsGetOpenAiErrors() {
        String chat = "/v1/chat/completions";
        String messages = "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]";
        assertError(post(chat, "{\"model\": \"" + ID + "\", " + messages), 400, null);                  // malformed JSON
        assertError(post(chat, "[1, 2]"), 400, null);                                                      // not an object
        assertError(post(chat, "{\"model\":\"" + ID + "\"," + messages + ",\"max_tokens\":\"ten\"}"), 400, "max_tokens");
        assertError(post(chat, "{\"model\":\"" + ID + "\"," + messages + ",\"temperature\":\"hot\"}"), 400, "temperature");
        assertError(post(chat, "{\"model\":\"" + ID + "\",\"messages\":\"Hi\"}"), 400, "messages");
        assertError(post(chat, "{\"model\":\"" + ID + "\"," + messages + ",\"logprobs\":true,\"top_logprobs\":21}"), 400,
                "top_logprobs");
        assertError(post(chat, "{\"model\":\"" + ID + "\"," + messages + ",\"temperature\":2.5}"), 400, "temperature");
        assertError(post(chat, "{\"model\":\"" + ID + "\"," + messages + ",\"max_tokens\":0}"), 400, "max_tokens");
        assertError(post("/v1/completions", "{\"model\":\"" + ID + "\",\"prompt\":\"Hi\",\"logprobs\":21}"), 400, "logprobs");
        Tuple2<Integer, JsonNode> unknown = post(chat, "{\"model\":\"gpt-4o\"," + messages + "}");
        assertError(unknown, 404, "model");
        assertEquals("model_not_found", unknown.getT2().at("/error/code").asText());
        String big = "{\"model\":\"" + ID + "\",\"prompt\":\"" + "a".repeat(100_000) + "\"}";
        assertError(post("/v1/completions", big), 413, null);
        // the same without Content-Length (chunked): cut off while reading
        byte[] half = big.substring(0, big.length() / 2).getBytes(StandardCharsets.UTF_8);
        // the server answers 413 and closes while the client may still be sending: the client sees either the 413
        // or, when its write races the close, the connection closed before a response; never a hang or a 200
        try {
            Tuple2<Integer, JsonNode> chunked = http.post().uri("/v1/completions")
                    .send(Flux.just(half, half).map(Unpooled::wrappedBuffer))
                    .responseSingle((res, content) -> content.asString().defaultIfEmpty("")
                            .map(x -> reactor.util.function.Tuples.of(res.status().code(), json(x))))
                    .block(TIMEOUT);
            assertError(chunked, 413, null);
        } catch (RuntimeException e) {
            if (!(reactor.core.Exceptions.unwrap(e) instanceof reactor.netty.http.client.PrematureCloseException)) {
                throw e; // only the closed-while-sending race is accepted, see above
            }
        }
        assertError(get("/v1/nothing"), 404, null);
        // the server still serves after all that
        assertEquals(200, post("/v1/completions", "{\"model\":\"" + ID + "\",\"prompt\":\"Hi\",\"max_tokens\":1}").getT1());
    }

    @Test
    void metricsAndTelemetry() {
        List<JsonNode> telemetry = new CopyOnWriteArrayList<>();
        // network chunks may cut an event anywhere: keep the unfinished line for the next chunk
        var sub = http.get().uri("/v1/gearbx/telemetry").response((res, content) -> {
                    StringBuilder pending = new StringBuilder();
                    return content.asString().concatMapIterable(chunk -> {
                        pending.append(chunk);
                        int end = pending.lastIndexOf("\n");
                        if (end < 0) {
                            return List.<String>of();
                        }
                        String complete = pending.substring(0, end + 1);
                        pending.delete(0, end + 1);
                        return List.of(complete);
                    });
                })
                .flatMapIterable(OpenAiHttpTest::dataLines)
                .map(OpenAiHttpTest::json)
                .subscribe(telemetry::add);
        try {
            awaitCondition(() -> {
                // streams started before the subscription is in place are not seen, or only their last events
                // (the finish without the tokens): retry until a token event and a finish have both arrived
                post("/v1/completions", "{\"model\":\"" + ID + "\",\"prompt\":\"Once upon a time\",\"max_tokens\":5}");
                return telemetry.stream().anyMatch(e -> e.has("gearbx"))
                        && telemetry.stream().anyMatch(e -> e.get("finish_reason") != null);
            });
            JsonNode token = telemetry.stream().filter(e -> e.has("gearbx")).findFirst().orElseThrow();
            assertEquals(ID, token.get("model").asText());
            assertEquals("high", token.at("/gearbx/gear").asText());
        } finally {
            sub.dispose();
        }
        String metrics = http.get().uri("/metrics").responseContent().aggregate().asString().block(TIMEOUT);
        assertTrue(metrics.contains("gearbx_tokens_total{gear=\"high\"}"), metrics);
        assertTrue(metrics.contains("gearbx_entropy_bits"), metrics);
    }

    @Test
    void dashboardFilesAndThresholdsAreServed() {
        Tuple2<Integer, String> page = http.get().uri("/dashboard").responseSingle((res, content) -> content.asString()
                .map(x -> reactor.util.function.Tuples.of(res.status().code(), res.responseHeaders().get("content-type") + "\n" + x)))
                .block(TIMEOUT);
        assertEquals(200, page.getT1());
        assertTrue(page.getT2().startsWith("text/html") && page.getT2().contains("/dashboard/dashboard.js"), page.getT2());
        String js = http.get().uri("/dashboard/dashboard.js").responseContent().aggregate().asString().block(TIMEOUT);
        assertTrue(js.contains("new EventSource(\"/v1/gearbx/telemetry\")"), js);
        assertError(get("/dashboard/secret.txt"), 404, null);
        Tuple2<Integer, JsonNode> th = get("/v1/gearbx/thresholds");
        assertEquals(200, th.getT1());
        assertEquals(local.thresholds().low(), th.getT2().at("/" + ID + "/low").floatValue());
        assertEquals(local.thresholds().high(), th.getT2().at("/" + ID + "/high").floatValue());
    }

    @Test
    void clientErrorsAreTyped() {
        // a non-2xx reply: the status and the server's error body
        GearbxModel wrongModel = Gearbx.builder().remote(OpenAiBackend.builder(server.baseUrl()).model("nope").build()).build();
        AtomicReference<Throwable> error = new AtomicReference<>();
        try (wrongModel) {
            wrongModel.stream("Hi").doOnError(error::set).onErrorComplete().blockLast(TIMEOUT);
        }
        var http404 = assertInstanceOf(dev.gearbx.reactive.client.OpenAiHttpException.class, error.get());
        assertEquals(404, http404.status());
        assertTrue(http404.body().contains("model_not_found"), http404.body());
        // nothing listening: a connection error, not a hang
        GearbxModel nowhere = Gearbx.builder().remote(OpenAiBackend.builder("http://127.0.0.1:9/v1").model("x")
                .connectTimeout(Duration.ofSeconds(2)).build()).build();
        error.set(null);
        try (nowhere) {
            nowhere.stream("Hi").doOnError(error::set).onErrorComplete().blockLast(TIMEOUT);
        }
        assertInstanceOf(dev.gearbx.reactive.client.OpenAiConnectionException.class, error.get());
        assertFalse(error.get().getMessage().isEmpty());
    }

    // ---- helpers

    static String text(Flux<StreamChunk> chunks) {
        return chunks.map(StreamChunk::text).reduce("", String::concat).block(TIMEOUT);
    }

    Tuple2<Integer, JsonNode> post(String path, String body) {
        return http.post().uri(path).send(Mono.just(Unpooled.copiedBuffer(body, StandardCharsets.UTF_8)))
                .responseSingle((res, content) -> content.asString().defaultIfEmpty("")
                        .map(s -> reactor.util.function.Tuples.of(res.status().code(), json(s))))
                .block(TIMEOUT);
    }

    Tuple2<Integer, JsonNode> get(String path) {
        return http.get().uri(path).responseSingle((res, content) -> content.asString().defaultIfEmpty("")
                .map(s -> reactor.util.function.Tuples.of(res.status().code(), json(s)))).block(TIMEOUT);
    }

    /** The data of every event of a streamed reply; checks that it ends with [DONE]. */
    List<JsonNode> sse(String path, String body) {
        String all = http.post().uri(path).send(Mono.just(Unpooled.copiedBuffer(body, StandardCharsets.UTF_8)))
                .responseSingle((res, content) -> {
                    assertEquals(200, res.status().code());
                    assertTrue(res.responseHeaders().get("content-type").startsWith("text/event-stream"));
                    return content.asString();
                }).block(TIMEOUT);
        List<String> data = dataLines(all);
        assertEquals("[DONE]", data.getLast());
        List<JsonNode> out = new ArrayList<>();
        for (String d : data.subList(0, data.size() - 1)) {
            out.add(json(d));
        }
        return out;
    }

    static List<String> dataLines(String text) {
        List<String> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.startsWith("data: ")) {
                out.add(line.substring(6));
            }
        }
        return out;
    }

    static JsonNode json(String s) {
        try {
            return OpenAiJson.MAPPER.readTree(s.isEmpty() ? "{}" : s);
        } catch (Exception e) {
            throw new AssertionError("not JSON: " + s, e);
        }
    }

    static void assertError(Tuple2<Integer, JsonNode> reply, int status, @Nullable String param) {
        assertEquals(status, reply.getT1(), reply.getT2().toString());
        JsonNode error = reply.getT2().get("error");
        assertTrue(error != null && error.get("message").isTextual() && error.get("type").isTextual(), reply.getT2().toString());
        assertTrue(error.has("param") && error.has("code"), "param and code are always there: " + error);
        if (param != null) {
            assertEquals(param, error.get("param").asText(), error.toString());
        }
    }

    static void awaitCondition(BooleanSupplier condition) {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within " + TIMEOUT);
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }
}
