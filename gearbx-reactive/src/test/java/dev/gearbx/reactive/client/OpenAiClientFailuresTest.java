package dev.gearbx.reactive.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gearbx.reactive.Gearbx;
import dev.gearbx.reactive.GearbxModel;
import dev.gearbx.reactive.StreamChunk;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * Issue 9, client failures: the OpenAI client backend against real HTTP servers on 127.0.0.1 that
 * misbehave on purpose (each test's server writes the bytes it names).
 */
class OpenAiClientFailuresTest {
    static final Duration TIMEOUT = Duration.ofSeconds(10);
    static final String TOKEN = "data: {\"choices\":[{\"index\":0,\"text\":\"a\",\"finish_reason\":null}]}\n\n";
    static final String FINISH = "data: {\"choices\":[{\"index\":0,\"text\":\"\",\"finish_reason\":\"stop\"}]}\n\n";

    final List<DisposableServer> servers = new CopyOnWriteArrayList<>();
    DisposableServer server;

    @AfterEach
    void stop() {
        servers.forEach(DisposableServer::dispose);
    }

    interface Handler {
        org.reactivestreams.Publisher<Void> handle(HttpServerRequest req, HttpServerResponse res);
    }

    GearbxModel serve(Handler handler, Duration readTimeout) {
        server = HttpServer.create().host("127.0.0.1").port(0)
                .route(r -> r.post("/v1/completions", (req, res) -> req.receive().then().thenMany(
                        Flux.defer(() -> Flux.from(handler.handle(req, res))))))
                .bindNow();
        servers.add(server);
        return Gearbx.builder().remote(OpenAiBackend.builder("http://127.0.0.1:" + server.port() + "/v1").model("m")
                .readTimeout(readTimeout).build()).build();
    }

    static HttpServerResponse sse(HttpServerResponse res) {
        return res.header("content-type", "text/event-stream");
    }

    Throwable failure(GearbxModel model, List<StreamChunk> seen) {
        AtomicReference<Throwable> error = new AtomicReference<>();
        try (model) {
            model.stream("Hi").doOnNext(seen::add).doOnError(error::set).onErrorComplete().blockLast(TIMEOUT);
        }
        assertTrue(error.get() != null, "the stream failed");
        return error.get();
    }

    @Test
    void aWellFormedStreamWorksAndCountsTokens() {
        List<StreamChunk> seen = new CopyOnWriteArrayList<>();
        AtomicReference<String> auth = new AtomicReference<>();
        AtomicReference<String> body = new AtomicReference<>();
        server = HttpServer.create().host("127.0.0.1").port(0)
                .route(r -> r.post("/v1/completions", (req, res) -> req.receive().aggregate().asString().flatMapMany(b -> {
                    auth.set(req.requestHeaders().get("authorization"));
                    body.set(b);
                    return sse(res).sendString(Flux.just(TOKEN, TOKEN, FINISH, "data: [DONE]\n\n"));
                }))).bindNow();
        servers.add(server);
        try (GearbxModel m = Gearbx.builder().remote(OpenAiBackend.builder("http://127.0.0.1:" + server.port() + "/v1")
                .model("m").apiKey("secret").build()).build()) {
            m.stream("Hi").doOnNext(seen::add).blockLast(TIMEOUT);
        }
        assertEquals("Bearer secret", auth.get());
        assertTrue(body.get().contains("\"stream\":true") && body.get().contains("\"model\":\"m\""), body.get());
        assertEquals(2, seen.size());
        assertTrue(Float.isNaN(seen.get(0).entropy()), "no logprobs sent: entropy unknown");
    }

    @Test
    void nonSuccessStatusIsTypedWithStatusAndBody() {
        List<StreamChunk> seen = new CopyOnWriteArrayList<>();
        Throwable e = failure(serve((req, res) -> res.status(503).sendString(Mono.just("{\"error\":{\"message\":\"busy\"}}")),
                TIMEOUT), seen);
        OpenAiHttpException h = assertInstanceOf(OpenAiHttpException.class, e);
        assertEquals(503, h.status());
        assertEquals("{\"error\":{\"message\":\"busy\"}}", h.body());
    }

    @Test
    void malformedJsonIsAProtocolError() {
        List<StreamChunk> seen = new CopyOnWriteArrayList<>();
        Throwable e = failure(serve((req, res) -> sse(res).sendString(Flux.just(TOKEN, "data: {\"choices\": [\n\n")),
                TIMEOUT), seen);
        assertInstanceOf(OpenAiProtocolException.class, e);
        assertTrue(e.getMessage().contains("malformed JSON"), e.getMessage());
        assertEquals(1, seen.size(), "the token before it still came");
    }

    @Test
    void malformedSseIsAProtocolError() {
        Throwable e = failure(serve((req, res) -> sse(res).sendString(Flux.just("hello world\n\n")), TIMEOUT),
                new CopyOnWriteArrayList<>());
        assertInstanceOf(OpenAiProtocolException.class, e);
        assertTrue(e.getMessage().contains("hello world"), e.getMessage());
        // JSON where events were asked for
        Throwable json = failure(serve((req, res) -> res.header("content-type", "application/json")
                .sendString(Mono.just("{\"choices\":[]}")), TIMEOUT), new CopyOnWriteArrayList<>());
        assertInstanceOf(OpenAiProtocolException.class, json);
    }

    @Test
    void aConnectionDroppedMidStreamIsAnErrorNotAHang() {
        List<StreamChunk> seen = new CopyOnWriteArrayList<>();
        Throwable e = failure(serve((req, res) -> sse(res).sendString(Flux.just(TOKEN, TOKEN))
                .then().then(Mono.fromRunnable(() -> res.withConnection(c -> c.channel().close()))), TIMEOUT), seen);
        assertTrue(e instanceof OpenAiConnectionException || e instanceof OpenAiProtocolException, e.toString());
        assertEquals(2, seen.size());
        // a stream that ends cleanly but without [DONE] or a finish reason is truncated: an error too
        Throwable truncated = failure(serve((req, res) -> sse(res).sendString(Flux.just(TOKEN)), TIMEOUT),
                new CopyOnWriteArrayList<>());
        assertInstanceOf(OpenAiProtocolException.class, truncated);
    }

    @Test
    void aSilentServerTimesOut() {
        long t0 = System.nanoTime();
        Throwable e = failure(serve((req, res) -> sse(res).sendString(Flux.just(TOKEN).concatWith(Flux.never())),
                Duration.ofMillis(500)), new CopyOnWriteArrayList<>());
        assertInstanceOf(OpenAiConnectionException.class, e);
        assertTrue(e.getMessage().contains("read timeout"), e.getMessage());
        assertTrue(System.nanoTime() - t0 < TIMEOUT.toNanos());
    }

    @Test
    void cancellingClosesTheHttpStream() {
        AtomicInteger cancelled = new AtomicInteger();
        try (GearbxModel m = serve((req, res) -> sse(res).sendString(Flux.interval(Duration.ofMillis(5)).map(i -> TOKEN)
                .doOnCancel(cancelled::incrementAndGet)), TIMEOUT)) {
            assertEquals(3, m.stream("Hi").take(3).count().block(TIMEOUT));
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (cancelled.get() == 0 && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
        }
        assertEquals(1, cancelled.get(), "the server saw its response cancelled: the connection was closed");
    }

    @Test
    void sseDecoderHandlesSplitsCrLfAndComments() {
        SseDecoder d = new SseDecoder(1024);
        byte[] all = ": comment\r\nevent: x\r\ndata: {\"a\":\r\ndata: 1}\r\n\r\ndata: é\n\n".getBytes(StandardCharsets.UTF_8);
        List<String> events = new java.util.ArrayList<>();
        for (byte b : all) {
            events.addAll(d.feed(new byte[] {b})); // one byte at a time: UTF-8 split inside 'é'
        }
        assertEquals(List.of("{\"a\":\n1}", "é"), events);
        assertTrue(!d.pending());
        SseDecoder small = new SseDecoder(64);
        assertInstanceOf(OpenAiProtocolException.class, catchThrowable(() -> small.feed(new byte[100])));
    }

    static Throwable catchThrowable(Runnable r) {
        try {
            r.run();
        } catch (Throwable t) {
            return t;
        }
        throw new AssertionError("nothing thrown");
    }
}
