package dev.gearbx.engine.sampling;

/**
 * Chooses the next token from logits. One instance per sequence: it holds the sequence's random
 * generator and recent-token history. Not thread-safe.
 *
 * <p>Instances made by {@link #of(SamplingParams)} allocate nothing per call once their buffers
 * (sized to the vocabulary) exist.
 */
public interface Sampler {

    /**
     * Picks the next token.
     *
     * <p>The repetition penalty, when enabled, is applied to {@code logits} <em>in place</em>; copy
     * the array first if the raw logits are still needed. Logits that are NaN or negative infinity
     * are never picked.
     *
     * @param logits the model's logits; only the first {@code vocabularySize} entries are read
     * @param vocabularySize number of tokens, {@code 1 <= vocabularySize <= logits.length}
     * @return a token id in {@code [0, vocabularySize)}
     * @throws IllegalArgumentException if {@code vocabularySize} is out of range
     * @throws dev.gearbx.engine.GearbxException if no logit is a number above negative infinity
     */
    int sample(float[] logits, int vocabularySize);

    /**
     * Tells the sampler that a token was appended to the sequence (prompt tokens too), for the
     * repetition penalty. Call it for the token {@link #sample} returned as well.
     *
     * @throws IllegalArgumentException if {@code tokenId} is negative
     */
    void accept(int tokenId);

    /** A new sampler for one sequence: greedy when {@link SamplingParams#isGreedy()}, else the full chain. */
    static Sampler of(SamplingParams params) {
        return params.isGreedy() ? new GreedySampler(params) : new ChainSampler(params);
    }
}
