package dev.gearbx.engine.generate;

import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.model.CausalModel;
import dev.gearbx.engine.model.ModelSequence;
import dev.gearbx.engine.routing.Entropy;
import dev.gearbx.engine.routing.GearPolicy;
import dev.gearbx.engine.routing.Router;
import dev.gearbx.engine.routing.RoutingOptions;
import dev.gearbx.engine.routing.Thresholds;
import dev.gearbx.engine.sampling.Sampler;
import dev.gearbx.engine.tokenizer.StreamingDecoder;
import dev.gearbx.engine.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.EnumMap;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.jspecify.annotations.Nullable;

/**
 * One running generation, pulled token by token: each {@link #next()} (or {@link #hasNext()})
 * runs at most one forward step, so nothing is computed ahead of demand. The prompt is ingested on
 * the first pull. Every step is routed: forward at the current gear, entropy of the logits, the
 * gear policy picks the next gear (a field write on the sequence state), the request's
 * {@link StepInterceptor} may override it, then sampling. A step whose logits hold NaN or infinity
 * is run again at the gear the interceptor names (by default once more one gear higher); if it
 * names none, a {@link NumericalInstabilityException} ends the generation. Closing releases the KV cache. Not
 * thread-safe.
 *
 * <pre>{@code
 * try (Generation g = new Generator(model).start(GenerationRequest.builder("Once upon a time").build())) {
 *     while (g.hasNext()) {
 *         GeneratedToken t = g.next();
 *         System.out.print(t.text());        // t.gear(), t.entropy() ...
 *     }
 *     GenerationResult result = g.result();  // result.gearShares() ...
 * }
 * }</pre>
 */
public final class Generation implements Iterator<GeneratedToken>, AutoCloseable {
    private final CausalModel model;
    private final GenerationRequest request;
    private final Tokenizer tokenizer;
    private final Sampler sampler;
    private final StepInterceptor interceptor;
    private long forwardPasses;
    private long escalations;
    private final long kvCacheBytes;
    private final StreamingDecoder decoder;
    private final int[] promptTokens;
    private final StringBuilder text = new StringBuilder();
    private final float[] scratch;
    private final double[] logNormalizer = new double[1];
    private final long startNanos = System.nanoTime();
    private final int vocab;
    private final EnumMap<Gear, Integer> gearSteps = new EnumMap<>(Gear.class);
    private @Nullable ModelSequence state;
    private @Nullable Router router;
    private @Nullable Thresholds thresholds;
    private int[] generated = new int[16];
    private int count;
    private @Nullable GeneratedToken lookahead;
    private @Nullable StopReason stopReason;
    private int lastToken;
    private @Nullable Gear previousGear;
    private long prefillNanos;
    private long firstTokenNanos;
    private long decodeNanos;

    Generation(CausalModel model, GenerationRequest request) {
        this.model = model;
        this.request = request;
        this.tokenizer = model.tokenizer();
        this.vocab = model.config().vocabularySize();
        int context = model.config().contextLength();
        this.promptTokens = request.encodePrompt(tokenizer, context);
        int capacity = (int) Math.min(context, (long) promptTokens.length + request.maxTokens());
        this.sampler = request.sampler() != null ? request.sampler().get() : Sampler.of(request.sampling());
        this.interceptor = request.interceptor() != null ? request.interceptor().get() : StepInterceptor.RETRY_ONE_GEAR_UP;
        this.decoder = new StreamingDecoder(tokenizer);
        this.scratch = new float[vocab];
        this.state = model.newSequence(capacity);
        this.kvCacheBytes = state.kvCacheBytes();
    }

    /** Forward passes this generation has run so far (prompt tokens and NaN-guard reruns included). */
    public long forwardPasses() {
        return forwardPasses;
    }

    /** Steps re-run at HIGH because they came out too uncertain at a lower gear ({@link RoutingOptions#escalate()}). */
    public long escalations() {
        return escalations;
    }

    /** Heap bytes of the KV cache this generation still holds: 0 once it ended or was closed. */
    public long kvCacheBytes() {
        return state == null ? 0 : kvCacheBytes;
    }

    /** The prompt's token ids (BOS included when added). */
    public int[] promptTokens() {
        return promptTokens.clone();
    }

    @Override
    public boolean hasNext() {
        if (lookahead == null && stopReason == null) {
            lookahead = step();
        }
        return lookahead != null;
    }

    @Override
    public GeneratedToken next() {
        if (!hasNext()) {
            throw new NoSuchElementException("generation has ended: " + stopReason);
        }
        GeneratedToken t = lookahead;
        lookahead = null;
        return t;
    }

    private @Nullable GeneratedToken step() {
        ModelSequence s = state;
        if (s == null) {
            stopReason = StopReason.CANCELLED;
            return null;
        }
        if (count >= request.maxTokens()) {
            return finish(StopReason.MAX_TOKENS);
        }
        long t0 = System.nanoTime();
        if (router == null) {
            router = prefill(s);
            prefillNanos = System.nanoTime() - t0;
            t0 = System.nanoTime();
        } else if (s.position() >= s.capacity()) {
            return finish(StopReason.CONTEXT_FULL);
        }
        Router r = router;
        Gear gear = r.gear();
        s.shift(gear);
        float[] logits = s.forward(lastToken);
        forwardPasses++;
        float entropy;
        boolean retried = false;
        while (true) {
            try {
                entropy = Entropy.bits(logits, vocab, logNormalizer);
                break;
            } catch (IllegalArgumentException broken) {
                // NaN/Inf guard: the interceptor may run the same position once more at a higher gear
                Gear retry = retried ? null : interceptor.onNonFiniteLogits(s.position() - 1, gear);
                if (retry == null || retry.compareTo(gear) <= 0) {
                    throw new NumericalInstabilityException(s.position() - 1, gear, broken.getMessage());
                }
                retried = true;
                s.rewind(1);
                r.force(retry);
                gear = retry;
                s.shift(gear);
                logits = s.forward(lastToken);
                forwardPasses++;
            }
        }
        Thresholds routed = thresholds;
        if (request.routing().escalate() && request.routing().pinned() == null && gear != Gear.HIGH && routed != null
                && entropy > routed.high()) {
            // escalation: this step was uncertain at a low gear, so its token comes from the same step at HIGH
            s.rewind(1);
            r.force(Gear.HIGH);
            gear = Gear.HIGH;
            s.shift(gear);
            logits = s.forward(lastToken);
            forwardPasses++;
            escalations++;
            try {
                entropy = Entropy.bits(logits, vocab, logNormalizer);
            } catch (IllegalArgumentException broken) {
                throw new NumericalInstabilityException(s.position() - 1, gear, broken.getMessage());
            }
        }
        r.afterStep(entropy);
        Gear proposed = r.gear();
        Gear decided = interceptor.nextGear(new StepInterceptor.StepInfo(count, s.position() - 1, gear, entropy,
                r.monitor().smoothed(), vocab, logits), proposed);
        if (decided != proposed) {
            r.force(java.util.Objects.requireNonNull(decided, "the interceptor's next gear"));
        }
        // the sampler may modify its input in place: give it a copy and keep the raw logits
        System.arraycopy(logits, 0, scratch, 0, vocab);
        int token = sampler.sample(scratch, vocab);
        // log p = z - log sum e^z, the normalizer coming from the entropy pass
        float logProb = (float) (logits[token] - logNormalizer[0]);
        long now = System.nanoTime();
        decodeNanos += now - t0;
        if (count == 0) {
            firstTokenNanos = now - startNanos;
        }
        gearSteps.merge(gear, 1, Integer::sum);
        boolean shifted = previousGear != null && previousGear != gear;
        previousGear = gear;
        if (request.stopAtEndOfGeneration() && tokenizer.isEndOfGeneration(token)) {
            return finish(StopReason.END_OF_GENERATION);
        }
        sampler.accept(token);
        lastToken = token;
        if (count == generated.length) {
            generated = Arrays.copyOf(generated, count * 2);
        }
        generated[count] = token;
        String piece = decoder.next(token);
        text.append(piece);
        return new GeneratedToken(count++, token, piece, logProb, entropy, r.monitor().smoothed(), gear, shifted, now - t0,
                request.topLogprobs() == 0 ? List.of() : topLogprobs(logits, request.topLogprobs()));
    }

    /**
     * The {@code k} largest logits as log-probabilities, largest first, ties by lower id (one pass
     * with an insertion into a sorted array of k; k is at most 20). Runs after the timed part of the
     * step, and only when asked for.
     */
    private List<TokenLogprob> topLogprobs(float[] logits, int k) {
        int n = Math.min(k, vocab);
        int[] ids = new int[n];
        int size = 0;
        for (int i = 0; i < vocab; i++) {
            float z = logits[i];
            if (size == n && !(z > logits[ids[n - 1]])) {
                continue;
            }
            int j = size < n ? size++ : n - 1;
            while (j > 0 && z > logits[ids[j - 1]]) {
                ids[j] = ids[j - 1];
                j--;
            }
            ids[j] = i;
        }
        TokenLogprob[] out = new TokenLogprob[size];
        for (int i = 0; i < size; i++) {
            int id = ids[i];
            out[i] = new TokenLogprob(id, new String(tokenizer.tokenBytes(id), StandardCharsets.UTF_8),
                    (float) (logits[id] - logNormalizer[0]));
        }
        return List.of(out);
    }

    /** Ingests the prompt (all but its last token) and sets up routing; returns the router. */
    private Router prefill(ModelSequence s) {
        RoutingOptions options = request.routing();
        Gear initial = options.startGear(request.prompt());
        Thresholds base = options.baseThresholds(model.metadata(), vocab);
        s.shift(initial);
        boolean calibrate = options.calibrate() && options.pinned() == null;
        float[] entropies = new float[calibrate ? promptTokens.length - 1 : 0];
        for (int i = 0; i < promptTokens.length - 1; i++) {
            sampler.accept(promptTokens[i]);
            if (calibrate) {
                // calibration needs the prompt's own next-token distributions
                entropies[i] = Entropy.bits(s.forward(promptTokens[i]), vocab);
            } else {
                s.ingest(promptTokens[i]);
            }
            forwardPasses++;
        }
        lastToken = promptTokens[promptTokens.length - 1];
        sampler.accept(lastToken);
        thresholds = calibrate ? Thresholds.calibrate(entropies, vocab, 4, base) : base;
        GearPolicy custom = request.policy() == null ? null : request.policy().get();
        return new Router(options, vocab, thresholds, custom, initial);
    }

    private @Nullable GeneratedToken finish(StopReason reason) {
        stopReason = reason;
        text.append(decoder.flush());
        release(); // the KV cache
        return null;
    }

    /** Why the generation ended, or null while it runs. */
    public @Nullable StopReason stopReason() {
        return stopReason;
    }

    /** The routing state (null before the prompt is ingested). */
    public @Nullable Router router() {
        return router;
    }

    /** The result so far (complete once {@link #hasNext()} returned false). */
    public GenerationResult result() {
        Map<Gear, Integer> steps = new EnumMap<>(gearSteps);
        return new GenerationResult(text.toString(), Arrays.copyOf(generated, count), promptTokens.length,
                stopReason == null ? StopReason.CANCELLED : stopReason, prefillNanos, firstTokenNanos, decodeNanos,
                steps, router == null ? 0 : router.shifts(), request.routing().pinned() != null ? null : thresholds);
    }

    /** Stops the generation and releases its KV cache. Idempotent. */
    @Override
    public void close() {
        if (stopReason == null) {
            stopReason = StopReason.CANCELLED;
        }
        lookahead = null;
        release();
    }

    private void release() {
        ModelSequence s = state;
        state = null;
        if (s != null) {
            s.close();
        }
    }
}
