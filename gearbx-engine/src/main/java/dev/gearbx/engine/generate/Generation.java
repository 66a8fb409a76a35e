package dev.gearbx.engine.generate;

import dev.gearbx.engine.model.ContextOverflowException;
import dev.gearbx.engine.model.LlamaModel;
import dev.gearbx.engine.model.LlamaState;
import dev.gearbx.engine.sampling.Sampler;
import dev.gearbx.engine.tokenizer.StreamingDecoder;
import dev.gearbx.engine.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import org.jspecify.annotations.Nullable;

/**
 * One running generation, pulled token by token: each {@link #next()} (or {@link #hasNext()})
 * runs at most one forward step, so nothing is computed ahead of demand. The prompt is ingested on
 * the first pull. Closing releases the KV cache. Not thread-safe.
 *
 * <pre>{@code
 * try (Generation g = new Generator(model).start(GenerationRequest.builder("Once upon a time").build())) {
 *     while (g.hasNext()) {
 *         System.out.print(g.next().text());
 *     }
 *     GenerationResult result = g.result();
 * }
 * }</pre>
 */
public final class Generation implements Iterator<GeneratedToken>, AutoCloseable {
    private final LlamaModel model;
    private final GenerationRequest request;
    private final Tokenizer tokenizer;
    private final Sampler sampler;
    private final StreamingDecoder decoder;
    private final int[] promptTokens;
    private final StringBuilder text = new StringBuilder();
    private final float[] scratch;
    private final long startNanos = System.nanoTime();
    private @Nullable LlamaState state;
    private int[] generated = new int[16];
    private int count;
    private @Nullable GeneratedToken lookahead;
    private @Nullable StopReason stopReason;
    private int lastToken;
    private long prefillNanos;
    private long firstTokenNanos;
    private long decodeNanos;

    Generation(LlamaModel model, GenerationRequest request) {
        this.model = model;
        this.request = request;
        this.tokenizer = model.tokenizer();
        boolean addBos = request.addBos() != null ? request.addBos() : tokenizer.specialTokens().addBos();
        this.promptTokens = tokenizer.encode(request.prompt(), addBos, request.parseSpecial());
        if (promptTokens.length == 0) {
            throw new IllegalArgumentException("the prompt is empty and the model has no BOS token to start from");
        }
        int context = model.config().contextLength();
        if (promptTokens.length >= context) {
            throw new ContextOverflowException(context, promptTokens.length + 1);
        }
        int capacity = (int) Math.min(context, (long) promptTokens.length + request.maxTokens());
        this.sampler = Sampler.of(request.sampling());
        this.decoder = new StreamingDecoder(tokenizer);
        this.scratch = new float[model.config().vocabularySize()];
        this.state = model.newState(capacity);
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
        LlamaState s = state;
        if (s == null) {
            stopReason = StopReason.CANCELLED;
            return null;
        }
        if (count >= request.maxTokens()) {
            return finish(StopReason.MAX_TOKENS);
        }
        long t0 = System.nanoTime();
        float[] logits;
        if (count == 0) {
            // ingest the prompt; only its last token's logits are needed
            for (int i = 0; i < promptTokens.length - 1; i++) {
                sampler.accept(promptTokens[i]);
                model.ingest(s, promptTokens[i]);
            }
            lastToken = promptTokens[promptTokens.length - 1];
            sampler.accept(lastToken);
            prefillNanos = System.nanoTime() - t0;
            t0 = System.nanoTime();
        } else if (s.position() >= s.capacity()) {
            return finish(StopReason.CONTEXT_FULL);
        }
        logits = model.forward(s, lastToken);
        int vocab = model.config().vocabularySize();
        // the sampler may modify its input in place: give it a copy and keep the raw logits
        System.arraycopy(logits, 0, scratch, 0, vocab);
        int token = sampler.sample(scratch, vocab);
        float logProb = (float) (logits[token] - logSumExp(logits, vocab));
        long now = System.nanoTime();
        decodeNanos += now - t0;
        if (count == 0) {
            firstTokenNanos = now - startNanos;
        }
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
        return new GeneratedToken(count++, token, piece, logProb, now - t0);
    }

    /** log(sum_i exp(x_i)), computed stably. */
    private static double logSumExp(float[] x, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp(x[i] - max);
        }
        return max + Math.log(sum);
    }

    private @Nullable GeneratedToken finish(StopReason reason) {
        stopReason = reason;
        text.append(decoder.flush());
        state = null; // release the KV cache
        return null;
    }

    /** Why the generation ended, or null while it runs. */
    public @Nullable StopReason stopReason() {
        return stopReason;
    }

    /**
     * The result so far (complete once {@link #hasNext()} returned false).
     */
    public GenerationResult result() {
        return new GenerationResult(text.toString(), Arrays.copyOf(generated, count), promptTokens.length,
                stopReason == null ? StopReason.CANCELLED : stopReason, prefillNanos, firstTokenNanos, decodeNanos);
    }

    /** Stops the generation and releases its KV cache. Idempotent. */
    @Override
    public void close() {
        if (stopReason == null) {
            stopReason = StopReason.CANCELLED;
        }
        lookahead = null;
        state = null;
    }
}
