package dev.gearbx.kernels.cuda;

import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.generate.GeneratedToken;
import dev.gearbx.engine.generate.GenerationRequest;
import dev.gearbx.engine.generate.GenerationResult;
import dev.gearbx.engine.generate.NumericalInstabilityException;
import dev.gearbx.engine.generate.StepInterceptor;
import dev.gearbx.engine.generate.StopReason;
import dev.gearbx.engine.routing.Entropy;
import dev.gearbx.engine.routing.GearPolicy;
import dev.gearbx.engine.routing.Router;
import dev.gearbx.engine.routing.RoutingOptions;
import dev.gearbx.engine.routing.Thresholds;
import dev.gearbx.engine.sampling.Sampler;
import dev.gearbx.engine.tokenizer.StreamingDecoder;
import dev.gearbx.engine.tokenizer.Tokenizer;
import dev.gearbx.reactive.spi.Sequence;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.NoSuchElementException;
import org.jspecify.annotations.Nullable;

/**
 * One generation on the device. Greedy requests, and sampled ones with top-k in 1..256 (below the vocabulary), run
 * entirely on the device when they have no repetition penalty, custom sampler or interceptor (see
 * {@link DeviceSampling}; the uniform of each draw comes from the request's seed as on the CPU, so a seed gives the
 * same tokens): each batch of {@code k = routing.deferredSteps()} steps is queued back to back (the
 * device feeds each sampled token to the next step) and only the k token ids, entropies and log probabilities
 * are read back, so up to k - 1 tokens are computed ahead of demand; tokens past a stop are discarded. Other
 * requests read the logits back every step and sample on the host with the engine's sampler. The gear policy
 * is the engine's {@link Router}. Non-finite logits are handled as the CPU engine's generation does: the step is
 * run again once at the gear the request's {@code StepInterceptor} names (by default one gear higher), then a
 * {@link NumericalInstabilityException} ends the generation; on the device path the steps queued after the broken
 * one are discarded. {@code RoutingOptions.escalate} reruns an uncertain step at HIGH the same way. The
 * interceptor's {@code nextGear} hook is called on the host path (requests with an interceptor sample there).
 * Not thread-safe.
 */
final class CudaSequence implements Sequence {
    private final CudaModel model;
    private final GenerationRequest request;
    private final Tokenizer tokenizer;
    private final StreamingDecoder decoder;
    private final int[] prompt;
    private final int vocab;
    private final boolean onDevice;
    private final DeviceSampling deviceSampling;
    private final @Nullable Sampler sampler;
    private final StepInterceptor guard;
    private final StringBuilder text = new StringBuilder();
    private final EnumMap<Gear, Integer> gearSteps = new EnumMap<>(Gear.class);
    private final ArrayDeque<GeneratedToken> ready = new ArrayDeque<>();
    private final long startNanos = System.nanoTime();
    private final long kvCacheBytes;
    private @Nullable DeviceDecoder device;
    private @Nullable Router router;
    private @Nullable Thresholds thresholds;
    private @Nullable StopReason stopReason;
    private @Nullable Gear previousGear;
    private int[] generated = new int[16];
    private int lastToken;
    private long escalations;
    private int count;
    private long forwardPasses;
    private long prefillNanos;
    private long firstTokenNanos;
    private long decodeNanos;

    CudaSequence(CudaModel model, GenerationRequest request) {
        this.model = model;
        this.request = request;
        this.tokenizer = model.host().tokenizer();
        this.vocab = model.vocabularySize();
        int context = model.contextLength();
        this.prompt = request.encodePrompt(tokenizer, context);
        int capacity = (int) Math.min(context, (long) prompt.length + request.maxTokens());
        DeviceSampling ds = request.sampler() == null && request.interceptor() == null
                ? DeviceSampling.of(request.sampling(), vocab) : null;
        this.onDevice = ds != null;
        this.deviceSampling = ds != null ? ds : DeviceSampling.GREEDY;
        this.sampler = onDevice ? null
                : request.sampler() != null ? request.sampler().get() : Sampler.of(request.sampling());
        this.guard = request.interceptor() != null ? request.interceptor().get() : StepInterceptor.RETRY_ONE_GEAR_UP;
        this.decoder = new StreamingDecoder(tokenizer);
        this.device = model.newDecoder(capacity, deviceSampling);
        this.kvCacheBytes = device.kvCacheBytes();
    }

    @Override
    public boolean hasNext() {
        if (ready.isEmpty() && stopReason == null) {
            model.device().bind();
            fill();
        }
        return !ready.isEmpty();
    }

    @Override
    public GeneratedToken next() {
        if (!hasNext()) {
            throw new NoSuchElementException("generation has ended: " + stopReason);
        }
        return ready.removeFirst();
    }

    /** Runs one batch of steps (k on the device path, one on the host path) and queues its tokens. */
    private void fill() {
        DeviceDecoder d = device;
        if (d == null) {
            stopReason = StopReason.CANCELLED;
            return;
        }
        if (count >= request.maxTokens()) {
            finish(StopReason.MAX_TOKENS);
            return;
        }
        long t0 = System.nanoTime();
        if (router == null) {
            router = prefill(d);
            prefillNanos = System.nanoTime() - t0;
            t0 = System.nanoTime();
        }
        Router r = router;
        int room = Math.min(d.capacity() - d.position(), request.maxTokens() - count);
        if (room <= 0) {
            finish(StopReason.CONTEXT_FULL);
            return;
        }
        Gear gear = r.gear();
        // a batch ends where the router decides (every deferredSteps entropies); after a rerun dropped the end of a
        // batch, the next one is shorter so that the gears stay those of the CPU engine's generation
        int deferred = r.options().deferredSteps();
        int k = onDevice ? Math.min(room, deferred - count % deferred) : 1;
        int from = d.position();
        float[] logits = null;
        if (onDevice) {
            for (int i = 0; i < k; i++) {
                d.step(gear, true);
            }
        } else {
            d.step(gear, true);
            logits = d.logits();
        }
        forwardPasses += k;
        DeviceDecoder.Results res = d.results(from, from + k);
        long now = System.nanoTime();
        long perStep = (now - t0) / k;
        for (int i = 0; i < k; i++) {
            int position = from + i;
            int input = i == 0 ? lastToken : res.tokens()[i - 1];
            Gear stepGear = gear;
            boolean rerun = false;
            // the step's outcome: device results (entry at) or host logits
            DeviceDecoder.Results cur = res;
            int at = i;
            double[] normalizer = new double[1];
            float entropy = logits != null ? hostEntropy(logits, normalizer) : res.entropies()[i];
            if (Float.isNaN(entropy)) {
                // NaN guard: once more at the interceptor's gear (the steps queued after this one read its token)
                stepGear = retryGear(position, gear, "the logits hold NaN or +infinity");
                r.force(stepGear);
                Rerun again = rerunStep(d, position, input, stepGear, logits != null, normalizer);
                rerun = true;
                cur = again.results();
                at = 0;
                logits = again.logits();
                entropy = again.entropy();
            }
            Thresholds routed = thresholds;
            if (request.routing().escalate() && request.routing().pinned() == null && stepGear != Gear.HIGH
                    && routed != null && entropy > routed.high()) {
                // escalation, as the CPU engine: an uncertain step at a lower gear takes its token from HIGH
                stepGear = Gear.HIGH;
                r.force(stepGear);
                Rerun again = rerunStep(d, position, input, stepGear, logits != null, normalizer);
                rerun = true;
                escalations++;
                cur = again.results();
                at = 0;
                logits = again.logits();
                entropy = again.entropy();
            }
            int token;
            float logProb;
            if (logits != null) {
                Sampler sm = java.util.Objects.requireNonNull(sampler, "sampler");
                token = sm.sample(logits.clone(), vocab);
                logProb = (float) (logits[token] - normalizer[0]);
            } else {
                token = cur.tokens()[at];
                logProb = cur.logProbabilities()[at];
            }
            r.afterStep(entropy);
            if (logits != null) {
                Gear proposed = r.gear();
                Gear decided = guard.nextGear(new StepInterceptor.StepInfo(count, position, stepGear, entropy,
                        r.monitor().smoothed(), vocab, logits), proposed);
                if (decided != proposed) {
                    r.force(java.util.Objects.requireNonNull(decided, "the interceptor's next gear"));
                }
            }
            decodeNanos += perStep;
            if (count == 0) {
                firstTokenNanos = now - startNanos;
            }
            gearSteps.merge(stepGear, 1, Integer::sum);
            boolean shifted = previousGear != null && previousGear != stepGear;
            previousGear = stepGear;
            if (request.stopAtEndOfGeneration() && tokenizer.isEndOfGeneration(token)) {
                finish(StopReason.END_OF_GENERATION);
                return;
            }
            if (sampler != null) {
                sampler.accept(token);
                d.setToken(token);
            }
            if (count == generated.length) {
                generated = Arrays.copyOf(generated, count * 2);
            }
            generated[count] = token;
            lastToken = token;
            String piece = decoder.next(token);
            text.append(piece);
            ready.add(new GeneratedToken(count++, token, piece, logProb, entropy, r.monitor().smoothed(), stepGear,
                    shifted, perStep));
            if (rerun && logits == null) {
                return; // the rest of the batch was computed from the rerun step's first token
            }
        }
    }

    /** Entropy of host logits, or NaN when they hold NaN or +infinity (or nothing above -infinity). */
    private float hostEntropy(float[] logits, double[] normalizer) {
        try {
            return Entropy.bits(logits, vocab, normalizer);
        } catch (IllegalArgumentException broken) {
            return Float.NaN;
        }
    }

    /** The gear the guard reruns a broken step at, strictly higher; else the typed error. */
    private Gear retryGear(int position, Gear gear, String detail) {
        Gear up = guard.onNonFiniteLogits(position, gear);
        if (up == null || up.compareTo(gear) <= 0) {
            throw new NumericalInstabilityException(position, gear, detail);
        }
        return up;
    }

    /**
     * A step run again: its device results (entry 0), its logits when the host samples (else null), its entropy.
     */
    private record Rerun(DeviceDecoder.Results results, float @Nullable [] logits, float entropy) {}

    /**
     * Runs the step at {@code position} again, reading {@code input}, at {@code gear}; a NaN entropy again is the
     * typed error.
     */
    private Rerun rerunStep(DeviceDecoder d, int position, int input, Gear gear, boolean hostLogits,
            double[] normalizer) {
        d.setPosition(position);
        d.setToken(input);
        d.step(gear, true);
        forwardPasses++;
        DeviceDecoder.Results results = d.results(position, position + 1);
        float[] logits = hostLogits ? d.logits() : null;
        float entropy = logits != null ? hostEntropy(logits, normalizer) : results.entropies()[0];
        if (Float.isNaN(entropy)) {
            throw new NumericalInstabilityException(position, gear, "the logits hold NaN or +infinity");
        }
        return new Rerun(results, logits, entropy);
    }

    /** Ingests the prompt (all but its last token) and sets up routing, as the CPU engine's generation does. */
    private Router prefill(DeviceDecoder d) {
        RoutingOptions options = request.routing();
        Gear initial = options.startGear(request.prompt());
        Thresholds base = options.baseThresholds(model.metadata(), vocab);
        boolean calibrate = options.calibrate() && options.pinned() == null;
        for (int i = 0; i < prompt.length - 1; i++) {
            if (sampler != null) {
                sampler.accept(prompt[i]);
            }
            d.setToken(prompt[i]);
            d.step(initial, calibrate); // calibration needs the prompt's own entropies (left in the device ring)
            forwardPasses++;
        }
        int last = prompt[prompt.length - 1];
        lastToken = last;
        if (sampler != null) {
            sampler.accept(last);
        }
        d.setToken(last);
        if (!deviceSampling.greedy()) {
            // draw i samples the step at position prompt.length - 1 + i
            d.setUniforms(prompt.length - 1, deviceSampling.uniforms(d.capacity() - (prompt.length - 1)));
        }
        thresholds = calibrate ? Thresholds.calibrate(d.results(0, prompt.length - 1).entropies(), vocab, 4, base) : base;
        GearPolicy custom = request.policy() == null ? null : request.policy().get();
        return new Router(options, vocab, thresholds, custom, initial);
    }

    private void finish(StopReason reason) {
        stopReason = reason;
        text.append(decoder.flush());
        release();
    }

    private void release() {
        DeviceDecoder d = device;
        device = null;
        if (d != null) {
            model.device().bind();
            d.close();
        }
    }

    @Override
    public GenerationResult result() {
        return new GenerationResult(text.toString(), Arrays.copyOf(generated, count), prompt.length,
                stopReason == null ? StopReason.CANCELLED : stopReason, prefillNanos, firstTokenNanos, decodeNanos,
                gearSteps, router == null ? 0 : router.shifts(), request.routing().pinned() != null ? null : thresholds);
    }

    /** Steps rerun at HIGH by escalation so far (as {@code Generation.escalations()} on the CPU). */
    long escalations() {
        return escalations;
    }

    /** Whether this sequence samples on the device (else it reads the logits back every step). */
    boolean samplesOnDevice() {
        return onDevice;
    }

    @Override
    public long forwardPasses() {
        return forwardPasses;
    }

    @Override
    public long kvCacheBytes() {
        return device == null ? 0 : kvCacheBytes;
    }

    @Override
    public void close() {
        if (stopReason == null) {
            stopReason = StopReason.CANCELLED;
        }
        ready.clear();
        release();
    }
}
