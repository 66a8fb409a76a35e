package dev.gearbx.reactive;

import dev.gearbx.engine.generate.GenerationRequest;
import dev.gearbx.engine.generate.GenerationResult;
import dev.gearbx.engine.routing.GearPolicy;
import dev.gearbx.engine.routing.RoutingOptions;
import dev.gearbx.engine.routing.Thresholds;
import dev.gearbx.engine.sampling.Sampler;
import dev.gearbx.engine.sampling.SamplingParams;
import dev.gearbx.reactive.spi.LoadedModel;
import io.micrometer.observation.ObservationRegistry;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import dev.gearbx.reactive.chat.ChatMessage;
import dev.gearbx.reactive.chat.ChatTemplate;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * A loaded model serving any number of concurrent streams: the weights are shared, each stream has
 * its own sequence (KV cache, position, gear, routing state). Build with {@link Gearbx#builder()};
 * close when done (after its streams ended).
 *
 * <pre>{@code
 * try (GearbxModel model = Gearbx.builder().model("stories260K.gguf").build()) {
 *     model.stream("Once upon a time")
 *          .transform(GearbxOperators.guards())
 *          .doOnNext(c -> log(c.text(), c.gear(), c.entropy()))
 *          .blockLast();
 *     GenerationSummary s = model.generate("Once upon a time").block();   // s.gearShares() ...
 * }
 * }</pre>
 *
 * <h2>Semantics of {@link #stream}</h2>
 * <ul>
 *   <li><b>Cold.</b> Nothing happens at assembly or subscription. The sequence (prompt encoding,
 *       KV cache) is made at the first {@code request(n > 0)}, and the prompt is ingested as part of
 *       the first token's step.
 *   <li><b>Demand-driven, nothing computed ahead.</b> Each unit of demand runs exactly one decode
 *       step (one forward pass; the first also ingests the prompt, and a NaN-guard rerun adds one).
 *       {@code request(n)} computes n tokens and then the stream's worker is idle; no token is
 *       buffered. The end of a stream is found by a step too: after the last token allowed by
 *       {@code maxTokens} the stream completes at once, but an end-of-generation token or a full
 *       context is found only by the step that the next unit of demand runs (that step's token is
 *       not emitted; {@code onComplete} is). A stream never holds a thread while it has no demand.
 *   <li><b>Threads.</b> Steps run on a worker of the model's compute scheduler (a bounded pool of
 *       {@code computeThreads} threads, {@code gearbx-compute-*}); {@code onNext} is called on that
 *       thread, so do not block in it ({@code publishOn} to move work away). A stream with demand
 *       yields its thread every {@value ChunkSource#SLICE_NANOS} ns so that streams sharing a
 *       thread take turns; a stalled subscriber (no demand) costs no thread at all.
 *   <li><b>Cancellation</b> is seen before every step: the step in flight finishes (within one
 *       step), no further step runs, and the sequence is closed, freeing its KV cache
 *       ({@link #kvCacheBytes()} drops by its size).
 *   <li><b>Errors</b> are {@code onError} signals of the engine's typed exceptions
 *       ({@link dev.gearbx.engine.GearbxException} subclasses): a prompt that does not fit the
 *       context is a {@link dev.gearbx.engine.model.ContextOverflowException} (signalled at the
 *       first demand); non-finite logits without a NaN guard a
 *       {@link dev.gearbx.engine.generate.NumericalInstabilityException}; a closed model an
 *       {@link IllegalStateException}.
 *   <li><b>Routing state</b> is per stream: each subscription starts a fresh sequence, policy,
 *       sampler and step rules.
 *   <li><b>Remote models</b> ({@link Gearbx.Builder#remote}, e.g. an OpenAI-compatible server) keep
 *       these semantics with three differences: the first demand sends the request, and up to 16
 *       tokens may be read from the network ahead of demand (none is computed here, and a stream
 *       waiting for the network holds no thread); the gear is chosen once per prompt, so step rules
 *       ({@link GearbxOperators#stepRule}) do not apply while stream rules do; token ids are -1 and
 *       {@link #kvCacheBytes()} stays 0 (the server holds the cache).
 * </ul>
 */
public final class GearbxModel implements AutoCloseable {
    /** Name of the Micrometer Observation made per generation. */
    public static final String OBSERVATION_NAME = "gearbx.generation";

    private static final System.Logger LOG = System.getLogger(GearbxModel.class.getName());

    private final LoadedModel loaded;
    private final String backendName;
    private final Scheduler scheduler;
    private final Gearbx.Builder config;
    private final List<GenerationListener> listeners = new CopyOnWriteArrayList<>();
    private final AtomicInteger activeStreams = new AtomicInteger();
    private final AtomicInteger liveSequences = new AtomicInteger();
    private final AtomicLong kvCacheBytes = new AtomicLong();
    private final AtomicLong forwardPasses = new AtomicLong();

    GearbxModel(LoadedModel loaded, String backendName, Scheduler scheduler, Gearbx.Builder config) {
        this.loaded = loaded;
        this.backendName = backendName;
        this.scheduler = scheduler;
        this.config = config;
    }

    /** A cold stream of the model's continuation of {@code prompt}, with the model's defaults. */
    public Flux<StreamChunk> stream(String prompt) {
        return stream(prompt, StreamOptions.defaults());
    }

    /** A cold stream of the continuation of {@code prompt}; see the class comment for its semantics. */
    public Flux<StreamChunk> stream(String prompt, StreamOptions options) {
        return streamWithResult(prompt, options, null);
    }

    private Flux<StreamChunk> streamWithResult(String prompt, StreamOptions options,
            @Nullable Consumer<GenerationResult> onResult) {
        return stream(prompt, options, onResult, false, null);
    }

    private Flux<StreamChunk> stream(String prompt, StreamOptions options, @Nullable Consumer<GenerationResult> onResult,
            boolean parseSpecial, @Nullable Boolean addBos) {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(options, "options");
        return Flux.create(sink -> ChunkSource.attach(this, request(prompt, options, sink, parseSpecial, addBos), sink,
                onResult, loaded::start), FluxSink.OverflowStrategy.ERROR);
    }

    /**
     * {@link #stream(String, StreamOptions)}, and {@code onSummary} receives the generation's summary
     * when it ends without error: before {@code onComplete} when it completes, and on the compute
     * thread within one step after a cancellation (e.g. by a stop-sequence operator), with stop
     * reason {@code CANCELLED}. The summary has the prompt's token count (for usage accounting).
     */
    public Flux<StreamChunk> stream(String prompt, StreamOptions options, Consumer<GenerationSummary> onSummary) {
        Objects.requireNonNull(onSummary, "onSummary");
        return streamWithResult(prompt, options, r -> onSummary.accept(GenerationSummary.of(r)));
    }

    /** {@link #chat(List, StreamOptions)} with {@code onSummary} as in {@link #stream(String, StreamOptions, Consumer)}. */
    public Flux<StreamChunk> chat(List<ChatMessage> messages, StreamOptions options, Consumer<GenerationSummary> onSummary) {
        Objects.requireNonNull(onSummary, "onSummary");
        return chatWithResult(messages, options, r -> onSummary.accept(GenerationSummary.of(r)));
    }

    /**
     * A cold stream of the assistant's reply to a conversation, rendered with the model's own chat
     * template (GGUF {@code tokenizer.chat_template}, a Jinja template; a plain {@code role: content}
     * format when the model has none). Special tokens written by the template are parsed as such,
     * and no second BOS is added when the template writes one.
     *
     * @throws dev.gearbx.reactive.chat.ChatTemplateException (as onError) if the template fails
     */
    public Flux<StreamChunk> chat(List<ChatMessage> messages, StreamOptions options) {
        return chatWithResult(messages, options, null);
    }

    private Flux<StreamChunk> chatWithResult(List<ChatMessage> messages, StreamOptions options,
            @Nullable Consumer<GenerationResult> onResult) {
        Objects.requireNonNull(messages, "messages");
        Objects.requireNonNull(options, "options");
        if (loaded.takesChatMessages()) {
            // a remote model gets the messages themselves; the last one's content stands for the prompt
            List<ChatMessage> copy = List.copyOf(messages);
            String last = copy.isEmpty() ? "" : copy.getLast().content();
            return Flux.create(sink -> ChunkSource.attach(this, request(last, options, sink, false, null), sink, onResult,
                    r -> loaded.startChat(copy, r)), FluxSink.OverflowStrategy.ERROR);
        }
        return Flux.defer(() -> {
            ChatTemplate template = chatTemplate();
            String prompt = template.render(messages, true);
            boolean bosWritten = !template.bosToken().isEmpty() && prompt.startsWith(template.bosToken());
            return stream(prompt, options, onResult, true, bosWritten ? Boolean.FALSE : null);
        });
    }

    /** {@link #chat(List, StreamOptions)} with the model's defaults. */
    public Flux<StreamChunk> chat(List<ChatMessage> messages) {
        return chat(messages, StreamOptions.defaults());
    }

    /** The model's chat template (built on first use). */
    public ChatTemplate chatTemplate() {
        ChatTemplate t = chatTemplate;
        if (t == null) {
            t = ChatTemplate.fromGguf(loaded.metadata());
            chatTemplate = t;
        }
        return t;
    }

    private volatile @Nullable ChatTemplate chatTemplate;

    private GenerationRequest request(String prompt, StreamOptions o, FluxSink<StreamChunk> sink, boolean parseSpecial,
            @Nullable Boolean addBos) {
        Supplier<GearPolicy> policy = o.policy() != null ? o.policy() : config.policy();
        Supplier<Sampler> sampler = o.sampler() != null ? o.sampler() : config.sampler();
        SamplingParams sampling = o.sampling() != null ? o.sampling() : config.sampling();
        RoutingOptions routing = o.routing() != null ? o.routing() : config.routing();
        var rules = StepRules.of(sink.contextView());
        return GenerationRequest.builder(prompt)
                .maxTokens(o.maxTokens() > 0 ? o.maxTokens() : config.maxTokens())
                .sampling(sampling)
                .routing(routing.toBuilder().deferredSteps(config.deferredSync() > 0 ? config.deferredSync()
                        : routing.deferredSteps()).build())
                .policy(policy)
                .sampler(sampler)
                .interceptor(() -> rules)
                .stopAtEndOfGeneration(o.stopAtEndOfGeneration())
                .parseSpecial(parseSpecial)
                .addBosOrDefault(addBos)
                .topLogprobs(o.topLogprobs())
                .build();
    }

    /** Generates to the end with the model's defaults. */
    public Mono<GenerationSummary> generate(String prompt) {
        return generate(prompt, StreamOptions.defaults());
    }

    /** Generates to the end (cold, like {@link #stream}); the summary of the whole generation. */
    public Mono<GenerationSummary> generate(String prompt, StreamOptions options) {
        return Mono.defer(() -> {
            AtomicReference<GenerationResult> result = new AtomicReference<>();
            return streamWithResult(prompt, options, result::set).then(Mono.fromSupplier(() -> GenerationSummary.of(result.get())));
        });
    }

    /** Generates each prompt in turn (one at a time, in order), each with its own routing state. */
    public Flux<GenerationSummary> generateBatch(List<String> prompts) {
        return generateBatch(prompts, StreamOptions.defaults());
    }

    public Flux<GenerationSummary> generateBatch(List<String> prompts, StreamOptions options) {
        List<String> copy = List.copyOf(prompts);
        return Flux.fromIterable(copy).concatMap(p -> generate(p, options), 0);
    }

    /** What runs at each stage of a step, for this model's defaults. */
    public Map<Stage, String> pipeline() {
        EnumMap<Stage, String> m = new EnumMap<>(Stage.class);
        RoutingOptions r = config.routing();
        m.put(Stage.FORWARD, backendName + " backend: " + loaded.forwardDescription());
        m.put(Stage.ENTROPY_WINDOW, "entropy in bits, window of " + r.window() + " steps; NaN guard only with GearbxOperators.nanGuard()");
        int k = config.deferredSync() > 0 ? config.deferredSync() : r.deferredSteps();
        m.put(Stage.GEAR_DECISION, (r.pinned() != null ? "pinned at " + r.pinned()
                : config.policy() != null ? "custom gear policy" : "threshold policy")
                + ", decided every " + k + " step(s), then step-rule operators");
        m.put(Stage.SWAP, "field write on the sequence state");
        m.put(Stage.SAMPLE, config.sampler() != null ? "custom sampler"
                : config.sampling().isGreedy() ? "greedy" : "chain sampler " + config.sampling());
        return m;
    }

    /**
     * The entropy thresholds a stream with the model's defaults routes by ({@link RoutingOptions#baseThresholds}:
     * configured, else the model's own, else its family's preset; a stream that calibrates, or has its own routing,
     * may use others). For display, e.g. the dashboard's entropy trace.
     */
    public Thresholds thresholds() {
        return config.routing().baseThresholds(loaded.metadata(), loaded.vocabularySize());
    }

    /** Name of the backend the model runs on. */
    public String backendName() {
        return backendName;
    }

    public int contextLength() {
        return loaded.contextLength();
    }

    /** Registers a listener for every stream; close the returned handle to remove it. */
    public AutoCloseable addListener(GenerationListener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
        return () -> listeners.remove(listener);
    }

    /** Streams that received demand and have not ended. */
    public int activeStreams() {
        return activeStreams.get();
    }

    /** The live counter behind {@link #activeStreams()} (strongly held by the model, for gauges). */
    public AtomicInteger activeStreamsCounter() {
        return activeStreams;
    }

    /** Sequences whose KV cache is allocated. */
    public int liveSequences() {
        return liveSequences.get();
    }

    /** Bytes of KV cache held by live sequences. */
    public long kvCacheBytes() {
        return kvCacheBytes.get();
    }

    /** Forward passes run by all streams of this model so far (prompt tokens included). */
    public long forwardPasses() {
        return forwardPasses.get();
    }

    /** Stops the compute threads and releases the weights. Streams still running fail. */
    @Override
    public void close() {
        scheduler.dispose();
        loaded.close();
    }

    // ---- for ChunkSource

    Scheduler scheduler() {
        return scheduler;
    }

    LoadedModel loaded() {
        return loaded;
    }

    ObservationRegistry observationRegistry() {
        return config.observationRegistry();
    }

    void forEachListener(Consumer<GenerationListener> call) {
        for (GenerationListener l : listeners) {
            try {
                call.accept(l);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "gearbx generation listener " + l + " failed", e);
            }
        }
    }

    void streamStarted() {
        activeStreams.incrementAndGet();
    }

    void streamEnded() {
        activeStreams.decrementAndGet();
    }

    void sequenceOpened(long bytes) {
        liveSequences.incrementAndGet();
        kvCacheBytes.addAndGet(bytes);
    }

    void sequenceClosed(long bytes) {
        liveSequences.decrementAndGet();
        kvCacheBytes.addAndGet(-bytes);
    }

    void forwards(long n) {
        forwardPasses.addAndGet(n);
    }
}
