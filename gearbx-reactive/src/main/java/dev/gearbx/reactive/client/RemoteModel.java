package dev.gearbx.reactive.client;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.generate.GenerationRequest;
import dev.gearbx.engine.gguf.GgufMetadata;
import dev.gearbx.engine.routing.RoutingOptions;
import dev.gearbx.engine.routing.StatisticalPromptClassifier;
import dev.gearbx.engine.sampling.SamplingParams;
import dev.gearbx.reactive.chat.ChatMessage;
import dev.gearbx.reactive.openai.OpenAiJson;
import dev.gearbx.reactive.spi.LoadedModel;
import dev.gearbx.reactive.spi.Sequence;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.util.List;
import java.util.Map;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

/**
 * The {@link LoadedModel} of an {@link OpenAiBackend}: each sequence is one streamed request. Its
 * context and vocabulary are the server's business: {@link #contextLength()} is
 * {@link Integer#MAX_VALUE} and {@link #vocabularySize()} 0 (unknown); it has no GGUF metadata.
 */
final class RemoteModel implements LoadedModel {
    private final OpenAiBackend backend;
    private final ConnectionProvider connections;
    private final HttpClient http;
    private final StatisticalPromptClassifier classifier = new StatisticalPromptClassifier();

    RemoteModel(OpenAiBackend backend) {
        this.backend = backend;
        this.connections = ConnectionProvider.builder("gearbx-openai").maxConnections(256)
                .pendingAcquireMaxCount(-1).build();
        String key = backend.apiKey();
        this.http = HttpClient.create(connections)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, backend.connectTimeout().toMillis()))
                .responseTimeout(backend.readTimeout())
                .headers(h -> {
                    h.set(HttpHeaderNames.CONTENT_TYPE, "application/json");
                    h.set(HttpHeaderNames.ACCEPT, "text/event-stream");
                    if (key != null) {
                        h.set(HttpHeaderNames.AUTHORIZATION, "Bearer " + key);
                    }
                });
    }

    @Override
    public int contextLength() {
        return Integer.MAX_VALUE;
    }

    @Override
    public int vocabularySize() {
        return 0;
    }

    @Override
    public GgufMetadata metadata() {
        return new GgufMetadata(Map.of());
    }

    @Override
    public String forwardDescription() {
        return "OpenAI-compatible server at " + backend.baseUrl() + ", models " + backend.gearModels();
    }

    @Override
    public boolean takesChatMessages() {
        return true;
    }

    @Override
    public Sequence start(GenerationRequest request) {
        Gear gear = route(request);
        ObjectNode body = body(request, gear);
        body.put("prompt", request.prompt());
        if (backend.topLogprobs() > 0) {
            body.put("logprobs", backend.topLogprobs());
        }
        return open("/completions", body, request, gear, false);
    }

    @Override
    public Sequence startChat(List<ChatMessage> messages, GenerationRequest settings) {
        Gear gear = route(settings);
        ObjectNode body = body(settings, gear);
        ArrayNode list = body.putArray("messages");
        for (ChatMessage m : messages) {
            list.addObject().put("role", m.role()).put("content", m.content());
        }
        if (backend.topLogprobs() > 0) {
            body.put("logprobs", true);
            body.put("top_logprobs", backend.topLogprobs());
        }
        return open("/chat/completions", body, settings, gear, true);
    }

    /** Per prompt: the pinned or initial gear of the routing options, else the prompt classifier's. */
    Gear route(GenerationRequest request) {
        RoutingOptions r = request.routing();
        if (r.pinned() != null) {
            return r.pinned();
        }
        if (r.initialGear() != null) {
            return r.initialGear();
        }
        return classifier.assess(request.prompt()).gear();
    }

    private ObjectNode body(GenerationRequest request, Gear gear) {
        ObjectNode body = OpenAiJson.MAPPER.createObjectNode();
        body.put("model", backend.gearModels().get(gear));
        body.put("stream", true);
        body.putObject("stream_options").put("include_usage", true);
        body.put("max_tokens", request.maxTokens());
        if (!request.stopAtEndOfGeneration()) {
            body.put("ignore_eos", true); // an extension (vLLM, gearbx); sent only when asked for
        }
        SamplingParams s = request.sampling();
        if (s.isGreedy()) {
            body.put("temperature", 0);
        } else {
            body.put("temperature", s.temperature());
            body.put("top_p", s.topP());
            body.put("seed", s.seed());
        }
        return body;
    }

    private Sequence open(String path, ObjectNode body, GenerationRequest request, Gear gear, boolean chat) {
        byte[] json;
        try {
            json = OpenAiJson.MAPPER.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the request", e);
        }
        String url = backend.baseUrl() + path;
        return new RemoteSequence(http, url, json, request, gear, chat, backend);
    }

    @Override
    public void close() {
        connections.dispose();
    }
}
