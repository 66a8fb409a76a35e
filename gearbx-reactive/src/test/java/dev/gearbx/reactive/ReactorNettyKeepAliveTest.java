package dev.gearbx.reactive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * The Reactor Netty server under gearbx's servers (and the Spring example's) answers every request of a
 * kept-alive connection when a response before it ended on another thread than the event loop, as every
 * gearbx stream does (its last chunk comes from a compute thread).
 *
 * <p>Reactor Netty 1.3.6 and 1.3.7 did not always: a request that arrived while such a response's
 * operations were still terminating was buffered and answered, and the read for the one after it was not
 * re-armed, so that request hung with no error (the Spring example's test hit its 60 s timeout in CI).
 * A standalone copy of this loop hung 3 (1.3.6) and 10 (1.3.7) rounds in 1,500, none in 3,500 with 1.3.8; this
 * test failed at round 18-19 with 1.3.7.
 * A plain server and a raw socket, so that neither gearbx nor a client pool hides or retries anything.
 */
class ReactorNettyKeepAliveTest {
    private static final int ROUNDS = 2_000;
    private static final int ANSWER_MILLIS = 5_000;

    @Test
    void everyRequestOfAKeptAliveConnectionIsAnsweredAfterAResponseEndedOffTheEventLoop() throws IOException {
        DisposableServer server = HttpServer.create().host("127.0.0.1").port(0)
                .handle((request, response) -> response.sendString(request.uri().equals("/elsewhere")
                        // the body, and so the response's end, from a worker thread
                        ? Mono.fromCallable(() -> "ok").subscribeOn(Schedulers.boundedElastic())
                        : Mono.just("ok")))
                .bindNow(Duration.ofSeconds(10));
        String[] paths = {"/elsewhere", "/here", "/here", "/elsewhere", "/here"};
        try {
            for (int round = 0; round < ROUNDS; round++) {
                try (Socket socket = new Socket("127.0.0.1", server.port())) {
                    socket.setSoTimeout(ANSWER_MILLIS);
                    OutputStream out = socket.getOutputStream();
                    BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
                    for (int r = 0; r < paths.length; r++) {
                        out.write(("GET " + paths[r] + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                        out.flush();
                        try {
                            assertEquals("ok", body(in), "round " + round + ", request " + r);
                        } catch (SocketTimeoutException e) {
                            fail("round " + round + ": request " + r + " (GET " + paths[r] + ") of a kept-alive connection got no "
                                    + "answer in " + ANSWER_MILLIS + " ms", e);
                        }
                    }
                }
            }
        } finally {
            server.disposeNow(Duration.ofSeconds(10));
        }
    }

    /** The body of the next HTTP/1.1 response on the connection (by Content-Length, or chunk by chunk). */
    private static String body(BufferedReader in) throws IOException {
        String status = in.readLine();
        if (status == null) {
            throw new IOException("the server closed the kept-alive connection");
        }
        int length = -1;
        boolean chunked = false;
        for (String line = in.readLine(); line != null && !line.isEmpty(); line = in.readLine()) {
            String header = line.toLowerCase(Locale.ROOT);
            if (header.startsWith("content-length:")) {
                length = Integer.parseInt(header.substring("content-length:".length()).strip());
            } else if (header.startsWith("transfer-encoding:") && header.contains("chunked")) {
                chunked = true;
            }
        }
        if (!chunked) {
            return new String(chars(in, Math.max(length, 0)));
        }
        StringBuilder body = new StringBuilder();
        for (int size = Integer.parseInt(in.readLine().strip(), 16); size > 0; size = Integer.parseInt(in.readLine().strip(), 16)) {
            body.append(chars(in, size));
            in.readLine(); // the CRLF after the chunk
        }
        in.readLine(); // the CRLF after the last, empty chunk
        return body.toString();
    }

    /** ISO-8859-1 reads one char per byte, so a byte count is a char count. */
    private static char[] chars(BufferedReader in, int n) throws IOException {
        char[] buffer = new char[n];
        for (int got = 0; got < n; ) {
            int read = in.read(buffer, got, n - got);
            if (read < 0) {
                throw new IOException("the connection ended inside a response body");
            }
            got += read;
        }
        return buffer;
    }
}
