package dev.gearbx.reactive.client;

import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.routing.Thresholds;
import dev.gearbx.reactive.spi.LoadedModel;
import dev.gearbx.reactive.spi.RemoteBackend;
import java.net.URI;
import java.time.Duration;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A backend that streams from an OpenAI-compatible server (Ollama, llama.cpp server, vLLM, LM
 * Studio, {@code gearbx serve}) through Reactor Netty, with gearbx's routing and telemetry on top.
 *
 * <pre>{@code
 * OpenAiBackend ollama = OpenAiBackend.builder("http://127.0.0.1:11434/v1")
 *         .gearModel(Gear.LOW, "llama3.2:1b")
 *         .gearModel(Gear.MID, "llama3.1:8b")
 *         .gearModel(Gear.HIGH, "llama3.1:70b")
 *         .build();
 * try (GearbxModel model = Gearbx.builder().remote(ollama).build()) {
 *     model.stream("What is 12*34?").doOnNext(c -> log(c.text(), c.gear(), c.entropy())).blockLast();
 * }
 * }</pre>
 *
 * <h2>Routing and telemetry</h2>
 * The server is a black box, so routing is per prompt: the gear is the one the routing options
 * pin (or their initial gear), else the statistical prompt classifier's choice, and the gear picks
 * the model ({@link Builder#gearModel}); every chunk of the stream carries that gear. Telemetry is
 * per token: each request asks for {@code top_logprobs} ({@link Builder#topLogprobs}, 20 by default,
 * OpenAI's maximum), and a chunk's entropy is the truncated entropy of that list
 * ({@link dev.gearbx.engine.routing.TopKEntropy}: the tail beyond the list counted as one outcome, a
 * lower bound of the full entropy), NaN when the server sends no log-probabilities. Top-k
 * entropy is narrower than the full one, hence the thresholds 0.4/1.2 bits by default
 * ({@link Builder#thresholds}); they are reported in the generation's result and used by nothing
 * else yet (a remote stream cannot change model mid-stream). Token ids are unknown ({@code -1}).
 *
 * <h2>Endpoints and failures</h2>
 * {@code GearbxModel.stream(prompt)} posts to {@code /completions}, {@code chat(messages)} to
 * {@code /chat/completions}, both with {@code stream: true} (and {@code ignore_eos: true}, an
 * extension of vLLM and gearbx, only for streams that do not stop at end-of-generation). Demand is passed on: at most a few
 * events are read ahead of the subscriber, and no compute thread waits on the network. A non-2xx
 * reply fails the stream with {@link OpenAiHttpException} (status and body); malformed SSE or JSON
 * with {@link OpenAiProtocolException}; a refused or dropped connection, or no data within
 * {@link Builder#readTimeout}, with {@link OpenAiConnectionException}. Cancelling the stream closes
 * its HTTP connection.
 */
public final class OpenAiBackend implements RemoteBackend {
    /** Default thresholds for top-k entropy (in bits). */
    public static final Thresholds DEFAULT_THRESHOLDS = new Thresholds(0.4f, 1.2f);

    private final URI baseUrl;
    private final @Nullable String apiKey;
    private final Map<Gear, String> gearModels;
    private final Thresholds thresholds;
    private final int topLogprobs;
    private final Duration connectTimeout;
    private final Duration readTimeout;
    private final int maxLineBytes;

    private OpenAiBackend(Builder b) {
        this.baseUrl = b.baseUrl;
        this.apiKey = b.apiKey;
        EnumMap<Gear, String> models = new EnumMap<>(Gear.class);
        models.putAll(b.gearModels);
        this.gearModels = Collections.unmodifiableMap(models);
        this.thresholds = b.thresholds;
        this.topLogprobs = b.topLogprobs;
        this.connectTimeout = b.connectTimeout;
        this.readTimeout = b.readTimeout;
        this.maxLineBytes = b.maxLineBytes;
    }

    /**
     * A builder for the server at {@code baseUrl}, the prefix OpenAI clients take (e.g.
     * {@code http://127.0.0.1:11434/v1}).
     *
     * @throws IllegalArgumentException if it is not an http(s) URL
     */
    public static Builder builder(String baseUrl) {
        return new Builder(baseUrl);
    }

    @Override
    public String name() {
        return "openai";
    }

    @Override
    public LoadedModel connect() {
        return new RemoteModel(this);
    }

    public URI baseUrl() {
        return baseUrl;
    }

    @Nullable String apiKey() {
        return apiKey;
    }

    /** The model name for each gear. */
    public Map<Gear, String> gearModels() {
        return gearModels;
    }

    public Thresholds thresholds() {
        return thresholds;
    }

    public int topLogprobs() {
        return topLogprobs;
    }

    public Duration connectTimeout() {
        return connectTimeout;
    }

    public Duration readTimeout() {
        return readTimeout;
    }

    int maxLineBytes() {
        return maxLineBytes;
    }

    /**
     * The settings, immutable and fluent: every method returns a new builder, so one can be shared
     * and varied. {@link #build()} checks that every gear has a model.
     */
    public static final class Builder {
        private final URI baseUrl;
        private final @Nullable String apiKey;
        private final Map<Gear, String> gearModels;
        private final Thresholds thresholds;
        private final int topLogprobs;
        private final Duration connectTimeout;
        private final Duration readTimeout;
        private final int maxLineBytes;

        private Builder(String baseUrl) {
            this(parse(baseUrl), null, Map.of(), DEFAULT_THRESHOLDS, 20, Duration.ofSeconds(10), Duration.ofSeconds(60),
                    1 << 20);
        }

        private Builder(URI baseUrl, @Nullable String apiKey, Map<Gear, String> gearModels, Thresholds thresholds,
                int topLogprobs, Duration connectTimeout, Duration readTimeout, int maxLineBytes) {
            this.baseUrl = baseUrl;
            this.apiKey = apiKey;
            this.gearModels = gearModels;
            this.thresholds = thresholds;
            this.topLogprobs = topLogprobs;
            this.connectTimeout = connectTimeout;
            this.readTimeout = readTimeout;
            this.maxLineBytes = maxLineBytes;
        }

        private static URI parse(String baseUrl) {
            Objects.requireNonNull(baseUrl, "baseUrl");
            URI uri;
            try {
                uri = URI.create(baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("baseUrl is not a URL: '" + baseUrl + "'", e);
            }
            if (uri.getScheme() == null || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))
                    || uri.getHost() == null) {
                throw new IllegalArgumentException("baseUrl must be an http(s) URL such as http://127.0.0.1:11434/v1, got '"
                        + baseUrl + "'");
            }
            return uri;
        }

        /** Sent as {@code Authorization: Bearer KEY}. */
        public Builder apiKey(String apiKey) {
            return new Builder(baseUrl, Objects.requireNonNull(apiKey, "apiKey"), gearModels, thresholds, topLogprobs,
                    connectTimeout, readTimeout, maxLineBytes);
        }

        /** The model that serves prompts routed to {@code gear} (the seed's {@code gear_models}). */
        public Builder gearModel(Gear gear, String model) {
            Objects.requireNonNull(gear, "gear");
            Objects.requireNonNull(model, "model");
            if (model.isBlank()) {
                throw new IllegalArgumentException("the model name for gear " + gear + " must not be blank");
            }
            EnumMap<Gear, String> next = new EnumMap<>(Gear.class);
            next.putAll(gearModels);
            next.put(gear, model);
            return new Builder(baseUrl, apiKey, Collections.unmodifiableMap(next), thresholds, topLogprobs, connectTimeout,
                    readTimeout, maxLineBytes);
        }

        /** One model for every gear (no routing between models; telemetry still per token). */
        public Builder model(String model) {
            Builder b = this;
            for (Gear g : Gear.values()) {
                b = b.gearModel(g, model);
            }
            return b;
        }

        /** Top-k entropy thresholds in bits (0.4/1.2 by default). */
        public Builder thresholds(float low, float high) {
            return new Builder(baseUrl, apiKey, gearModels, new Thresholds(low, high), topLogprobs, connectTimeout,
                    readTimeout, maxLineBytes);
        }

        /** Top log-probabilities asked for per token, 0 (no entropy) to 20 (default). */
        public Builder topLogprobs(int n) {
            if (n < 0 || n > 20) {
                throw new IllegalArgumentException("topLogprobs must be in [0, 20], got " + n);
            }
            return new Builder(baseUrl, apiKey, gearModels, thresholds, n, connectTimeout, readTimeout, maxLineBytes);
        }

        /** Time to establish a connection (10 s by default). */
        public Builder connectTimeout(Duration timeout) {
            return new Builder(baseUrl, apiKey, gearModels, thresholds, topLogprobs, positive(timeout, "connectTimeout"),
                    readTimeout, maxLineBytes);
        }

        /** Longest silence while waiting for the reply or its next event (60 s by default); then the stream fails. */
        public Builder readTimeout(Duration timeout) {
            return new Builder(baseUrl, apiKey, gearModels, thresholds, topLogprobs, connectTimeout,
                    positive(timeout, "readTimeout"), maxLineBytes);
        }

        /** Longest line of the event stream (1 MiB by default); longer is a protocol error. */
        public Builder maxLineBytes(int bytes) {
            if (bytes < 64) {
                throw new IllegalArgumentException("maxLineBytes must be at least 64, got " + bytes);
            }
            return new Builder(baseUrl, apiKey, gearModels, thresholds, topLogprobs, connectTimeout, readTimeout, bytes);
        }

        private static Duration positive(Duration d, String name) {
            Objects.requireNonNull(d, name);
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(name + " must be positive, got " + d);
            }
            return d;
        }

        /**
         * @throws IllegalStateException if a gear has no model
         */
        public OpenAiBackend build() {
            for (Gear g : Gear.values()) {
                if (!gearModels.containsKey(g)) {
                    throw new IllegalStateException("no model for gear " + g + ": call gearModel(" + g
                            + ", name) or model(name)");
                }
            }
            return new OpenAiBackend(this);
        }
    }
}
