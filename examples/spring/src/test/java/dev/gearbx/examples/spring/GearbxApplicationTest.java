package dev.gearbx.examples.spring;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gearbx.reactive.openai.OpenAiJson;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.http.MediaType;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.test.web.reactive.server.WebTestClient;

/**
 * Issue 12: the app on a random port with the real embedded demo model (thresholds set by
 * properties), driven over HTTP by WebTestClient.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"gearbx.thresholds.low=0.9", "gearbx.thresholds.high=2.6", "gearbx.max-tokens=64"})
class GearbxApplicationTest {
    private static final Set<String> GEARS = Set.of("low", "mid", "high");
    private static final ParameterizedTypeReference<ServerSentEvent<String>> SSE = new ParameterizedTypeReference<>() {};

    @LocalServerPort
    int port;

    WebTestClient client;

    @BeforeEach
    void client() {
        client = WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + port).responseTimeout(Duration.ofSeconds(60)).build();
    }

    private List<ServerSentEvent<String>> events(String path, String body) {
        List<ServerSentEvent<String>> events = client.post().uri(path).contentType(MediaType.APPLICATION_JSON)
                .accept(MediaType.TEXT_EVENT_STREAM).bodyValue(body)
                .exchange()
                .expectStatus().isOk()
                .expectHeader().contentTypeCompatibleWith(MediaType.TEXT_EVENT_STREAM)
                .returnResult(SSE).getResponseBody().collectList().block(Duration.ofSeconds(60));
        assertThat(events).isNotNull();
        return events;
    }

    private static JsonNode json(String s) {
        try {
            return OpenAiJson.MAPPER.readTree(s);
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + s, e);
        }
    }

    @Test
    void generateStreamsTokenEventsWithEntropyAndGearThenASummary() {
        List<ServerSentEvent<String>> events = events("/generate", "{\"prompt\":\"Q: What is 347 + 128?\\nA:\",\"max_tokens\":24}");

        assertThat(events).hasSizeGreaterThan(1);
        List<ServerSentEvent<String>> tokens = events.subList(0, events.size() - 1);
        assertThat(tokens).allSatisfy(e -> assertThat(e.event()).isEqualTo("token"));
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < tokens.size(); i++) {
            JsonNode t = json(tokens.get(i).data());
            assertThat(t.get("index").asInt()).isEqualTo(i);
            assertThat(t.get("entropy").isNumber()).as("entropy of %s", t).isTrue();
            assertThat(t.get("entropy").asDouble()).isFinite().isGreaterThanOrEqualTo(0);
            assertThat(t.get("smoothed_entropy").isNumber()).isTrue();
            assertThat(GEARS).contains(t.get("gear").asText());
            assertThat(t.get("shifted").isBoolean()).isTrue();
            text.append(t.get("text").asText());
        }
        assertThat(text.toString()).isNotBlank();

        ServerSentEvent<String> last = events.getLast();
        assertThat(last.event()).isEqualTo("summary");
        JsonNode summary = json(last.data());
        assertThat(summary.get("tokens").asInt()).isEqualTo(tokens.size());
        assertThat(summary.get("stop_reason").asText()).isIn("MAX_TOKENS", "END_OF_GENERATION");
        double shares = 0;
        for (var it = summary.get("gear_shares").properties().iterator(); it.hasNext(); ) {
            var e = it.next();
            assertThat(GEARS).contains(e.getKey());
            shares += e.getValue().asDouble();
        }
        assertThat(shares).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-6));
    }

    @Test
    void generateWithoutPromptIs400NamingTheField() {
        client.post().uri("/generate").contentType(MediaType.APPLICATION_JSON).bodyValue("{\"max_tokens\":3}")
                .exchange()
                .expectStatus().isBadRequest()
                .expectBody(String.class).value(b -> assertThat(b).contains("'prompt' is required"));
    }

    @Test
    void streamedChatCompletionIsOpenAiChunksWithGearbxTelemetryEndingWithDone() {
        List<ServerSentEvent<String>> events = events("/v1/chat/completions",
                "{\"model\":\"gearbx-demo\",\"stream\":true,\"max_tokens\":16,\"messages\":[{\"role\":\"user\",\"content\":\"Say hi.\"}]}");

        assertThat(events.getLast().data()).isEqualTo("[DONE]");
        List<JsonNode> chunks = events.subList(0, events.size() - 1).stream().map(e -> json(e.data())).toList();
        assertThat(chunks).allSatisfy(c -> {
            assertThat(c.get("object").asText()).isEqualTo("chat.completion.chunk");
            assertThat(c.get("model").asText()).isEqualTo("gearbx-demo");
        });
        assertThat(chunks.getFirst().at("/choices/0/delta/role").asText()).isEqualTo("assistant");
        assertThat(chunks.getLast().at("/choices/0/finish_reason").asText()).isIn("stop", "length");
        List<JsonNode> tokens = chunks.subList(1, chunks.size() - 1);
        assertThat(tokens).isNotEmpty().allSatisfy(c -> {
            assertThat(c.at("/gearbx/entropy").isNumber()).isTrue();
            assertThat(GEARS).contains(c.at("/gearbx/gear").asText());
        });
    }

    @Test
    void wholeChatCompletionHasTheAnswerUsageAndGearShares() {
        JsonNode body = json(client.post().uri("/v1/chat/completions").contentType(MediaType.APPLICATION_JSON)
                .bodyValue("{\"model\":\"gearbx-demo\",\"max_tokens\":8,\"messages\":[{\"role\":\"user\",\"content\":\"Say hi.\"}]}")
                .exchange()
                .expectStatus().isOk()
                .expectBody(String.class).returnResult().getResponseBody());
        assertThat(body.get("object").asText()).isEqualTo("chat.completion");
        assertThat(body.at("/choices/0/message/role").asText()).isEqualTo("assistant");
        assertThat(body.at("/usage/completion_tokens").asInt()).isBetween(1, 8);
        assertThat(body.at("/gearbx/gear_shares").isObject()).isTrue();
    }

    @Test
    void unknownModelIsOpenAi404NamingTheModel() {
        client.post().uri("/v1/chat/completions").contentType(MediaType.APPLICATION_JSON)
                .bodyValue("{\"model\":\"gpt-9\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}")
                .exchange()
                .expectStatus().isNotFound()
                .expectBody()
                .jsonPath("$.error.param").isEqualTo("model")
                .jsonPath("$.error.message").value(m -> assertThat(m.toString()).contains("gpt-9"));
    }

    @Test
    void actuatorPrometheusHasTheGearbxMetersAfterAGeneration() {
        events("/generate", "{\"prompt\":\"Q: Say hi.\\nA:\",\"max_tokens\":4}");
        String scrape = client.get().uri("/actuator/prometheus").exchange()
                .expectStatus().isOk()
                .expectBody(String.class).returnResult().getResponseBody();
        assertThat(scrape).contains("gearbx_tokens_total{", "gear=\"", "gearbx_entropy_bits", "gearbx_active_streams");
    }

    @Test
    void dashboardAndTheConfiguredThresholdsAreServed() {
        client.get().uri("/dashboard").exchange()
                .expectStatus().isOk()
                .expectHeader().contentTypeCompatibleWith(MediaType.TEXT_HTML)
                .expectBody(String.class).value(html -> assertThat(html).contains("/dashboard/dashboard.js"));
        client.get().uri("/dashboard/dashboard.js").exchange().expectStatus().isOk()
                .expectBody(String.class).value(js -> assertThat(js).contains("/v1/gearbx/telemetry"));
        JsonNode th = json(client.get().uri("/v1/gearbx/thresholds").exchange().expectStatus().isOk()
                .expectBody(String.class).returnResult().getResponseBody());
        assertThat(th.at("/gearbx-demo/low").floatValue()).as("gearbx.thresholds.low").isEqualTo(0.9f);
        assertThat(th.at("/gearbx-demo/high").floatValue()).as("gearbx.thresholds.high").isEqualTo(2.6f);
    }
}
