package dev.gearbx.kernels.cuda;

import dev.gearbx.engine.sampling.SamplingParams;
import java.util.SplittableRandom;
import org.jspecify.annotations.Nullable;

/**
 * How the device step ends: greedy ({@link #GREEDY}), or the engine's sampling chain with top-k on the device
 * (kernel {@code sample_topk}): top-k, temperature, min-p, top-p and a draw with the uniform the host drew for that
 * step from the sampler's seeded generator, so a seed gives the same tokens as the CPU engine's sampler.
 *
 * @param topK candidates kept, 1..{@value #MAX_TOP_K}; 0 means greedy
 * @param temperature softmax temperature, &gt; 0 unless greedy
 * @param topP nucleus mass in (0, 1]
 * @param minP relative probability floor in [0, 1)
 * @param seed seed of the draws' generator
 */
record DeviceSampling(int topK, float temperature, float topP, float minP, long seed) {
    /** Largest top-k the device kernel takes (its candidate lists and final sort hold this many). */
    static final int MAX_TOP_K = 256;
    /** Logits each block of {@code sample_topk} reduces and sorts. */
    static final int SLICE = 1024;
    /** Most blocks of {@code sample_topk} (one thread of its last block per block): vocabularies up to 262,144. */
    static final int MAX_BLOCKS = 256;

    /** Greedy: the argmax, on the device ({@code sample_greedy}). */
    static final DeviceSampling GREEDY = new DeviceSampling(0, 0f, 1f, 0f, 0L);

    DeviceSampling {
        if (topK < 0 || topK > MAX_TOP_K) {
            throw new IllegalArgumentException("device top-k must be in 0.." + MAX_TOP_K + ", got " + topK);
        }
    }

    /**
     * The device form of {@code p} for a vocabulary of {@code vocabularySize} tokens, or null when the device cannot
     * sample it and the host must: a repetition penalty, top-k off (0) or above {@value #MAX_TOP_K}, top-k not
     * below the vocabulary (the chain then keeps every token), or a vocabulary above {@code MAX_BLOCKS * SLICE}.
     */
    static @Nullable DeviceSampling of(SamplingParams p, int vocabularySize) {
        if (p.repetitionPenalty() != 1f) {
            return null;
        }
        if (p.isGreedy()) {
            return GREEDY;
        }
        if (p.topK() <= 0 || p.topK() > MAX_TOP_K || p.topK() >= vocabularySize
                || blocks(vocabularySize) > MAX_BLOCKS) {
            return null;
        }
        return new DeviceSampling(p.topK(), p.temperature(), p.topP(), p.minP(), p.seed());
    }

    boolean greedy() {
        return topK == 0;
    }

    /** Blocks of {@code sample_topk} for a vocabulary of {@code vocabularySize}. */
    static int blocks(int vocabularySize) {
        return (vocabularySize + SLICE - 1) / SLICE;
    }

    /**
     * The uniforms of draws {@code 0, 1, ...}: the same {@code nextDouble()} sequence the engine's ChainSampler
     * takes from {@code new SplittableRandom(seed)}, one per sampled token.
     */
    double[] uniforms(int count) {
        SplittableRandom random = new SplittableRandom(seed);
        double[] u = new double[count];
        for (int i = 0; i < count; i++) {
            u[i] = random.nextDouble();
        }
        return u;
    }
}
