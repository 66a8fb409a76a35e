package dev.gearbx.engine.sampling;

import dev.gearbx.engine.GearbxException;

/**
 * Argmax after the repetition penalty; ties go to the lowest token id. Allocation-free per call
 * (the penalty's scratch array is made once, on the first call with a non-empty history).
 */
final class GreedySampler implements Sampler {
    private final RepetitionPenalty penalty;

    GreedySampler(SamplingParams params) {
        this.penalty = new RepetitionPenalty(params.repetitionPenalty(), params.repetitionLastN());
    }

    @Override
    public int sample(float[] logits, int vocabularySize) {
        ChainSampler.checkVocabulary(logits, vocabularySize);
        penalty.apply(logits, vocabularySize);
        int best = -1;
        float bestLogit = Float.NEGATIVE_INFINITY;
        for (int t = 0; t < vocabularySize; t++) {
            float l = logits[t];
            if (l > bestLogit) { // strict: the lowest id wins ties; NaN never wins
                bestLogit = l;
                best = t;
            }
        }
        if (best < 0) {
            throw noCandidate(vocabularySize);
        }
        return best;
    }

    @Override
    public void accept(int tokenId) {
        penalty.accept(tokenId);
    }

    static GearbxException noCandidate(int vocabularySize) {
        return new GearbxException(
                "cannot sample: all " + vocabularySize + " logits are NaN or negative infinity");
    }
}
