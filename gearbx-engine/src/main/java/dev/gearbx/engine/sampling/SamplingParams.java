package dev.gearbx.engine.sampling;

import java.security.SecureRandom;

/**
 * Immutable sampling settings; built with a {@link #builder()}; every invalid value is rejected by
 * name with an {@link InvalidSamplingParameterException}, whether built or constructed directly.
 *
 * <p>Filters are applied in llama.cpp's common order: repetition penalty, top-k, temperature
 * softmax, top-p, min-p. A filter is off at its neutral value.
 *
 * @param temperature softmax temperature, finite and {@code >= 0}; {@code 0} means greedy (argmax)
 * @param topK keep only the {@code topK} most likely tokens, {@code >= 0}; {@code 0} = off
 * @param topP keep the smallest set of most likely tokens whose probability sums to at least
 *     {@code topP}, in {@code (0, 1]}; {@code 1} = off
 * @param minP drop tokens whose probability is below {@code minP} times the most likely token's,
 *     in {@code [0, 1)}; {@code 0} = off
 * @param repetitionPenalty penalty for tokens among the last {@code repetitionLastN} accepted ones
 *     (positive logits are divided by it, others multiplied), finite and {@code > 0}; {@code 1} = off
 * @param repetitionLastN how many recently accepted tokens the penalty looks at, {@code >= 0};
 *     {@code 0} = off
 * @param seed seed of the sampler's random generator; the same seed gives the same tokens
 */
public record SamplingParams(
        float temperature,
        int topK,
        float topP,
        float minP,
        float repetitionPenalty,
        int repetitionLastN,
        long seed) {

    public static final float DEFAULT_TEMPERATURE = 0.8f;
    public static final int DEFAULT_TOP_K = 40;
    public static final float DEFAULT_TOP_P = 0.95f;
    public static final float DEFAULT_MIN_P = 0.05f;
    public static final float DEFAULT_REPETITION_PENALTY = 1.0f;
    public static final int DEFAULT_REPETITION_LAST_N = 64;

    public SamplingParams {
        if (!Float.isFinite(temperature) || temperature < 0f) {
            throw new InvalidSamplingParameterException("temperature", "must be finite and >= 0", temperature);
        }
        if (topK < 0) {
            throw new InvalidSamplingParameterException("topK", "must be >= 0 (0 = off)", topK);
        }
        if (!(topP > 0f && topP <= 1f)) { // written so that NaN fails
            throw new InvalidSamplingParameterException("topP", "must be in (0, 1]", topP);
        }
        if (!(minP >= 0f && minP < 1f)) {
            throw new InvalidSamplingParameterException("minP", "must be in [0, 1)", minP);
        }
        if (!Float.isFinite(repetitionPenalty) || repetitionPenalty <= 0f) {
            throw new InvalidSamplingParameterException(
                    "repetitionPenalty", "must be finite and > 0", repetitionPenalty);
        }
        if (repetitionLastN < 0) {
            throw new InvalidSamplingParameterException("repetitionLastN", "must be >= 0 (0 = off)", repetitionLastN);
        }
        temperature += 0f; // -0.0 becomes +0.0 so that equal settings are equal records
        minP += 0f;
    }

    /**
     * Greedy decoding: temperature 0, the other filters at their defaults (they do not change an
     * argmax), repetition penalty off, seed 0 (unused).
     */
    public static SamplingParams greedy() {
        return new SamplingParams(0f, DEFAULT_TOP_K, DEFAULT_TOP_P, DEFAULT_MIN_P,
                DEFAULT_REPETITION_PENALTY, DEFAULT_REPETITION_LAST_N, 0L);
    }

    /**
     * A builder with the defaults: temperature 0.8, topK 40, topP 0.95, minP 0.05, repetition
     * penalty 1.0 (off) over the last 64 tokens, and a random seed drawn at {@link Builder#build()}
     * unless {@link Builder#seed(long)} is called.
     */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding these settings, seed included. */
    public Builder toBuilder() {
        return new Builder()
                .temperature(temperature)
                .topK(topK)
                .topP(topP)
                .minP(minP)
                .repetitionPenalty(repetitionPenalty)
                .repetitionLastN(repetitionLastN)
                .seed(seed);
    }

    /** Whether these settings decode greedily ({@code temperature == 0}). */
    public boolean isGreedy() {
        return temperature == 0f;
    }

    /** Collects settings; {@link #build()} validates them. Not thread-safe. */
    public static final class Builder {
        private float temperature = DEFAULT_TEMPERATURE;
        private int topK = DEFAULT_TOP_K;
        private float topP = DEFAULT_TOP_P;
        private float minP = DEFAULT_MIN_P;
        private float repetitionPenalty = DEFAULT_REPETITION_PENALTY;
        private int repetitionLastN = DEFAULT_REPETITION_LAST_N;
        private long seed;
        private boolean seedSet;

        private Builder() {}

        public Builder temperature(float temperature) {
            this.temperature = temperature;
            return this;
        }

        public Builder topK(int topK) {
            this.topK = topK;
            return this;
        }

        public Builder topP(float topP) {
            this.topP = topP;
            return this;
        }

        public Builder minP(float minP) {
            this.minP = minP;
            return this;
        }

        public Builder repetitionPenalty(float repetitionPenalty) {
            this.repetitionPenalty = repetitionPenalty;
            return this;
        }

        public Builder repetitionLastN(int repetitionLastN) {
            this.repetitionLastN = repetitionLastN;
            return this;
        }

        /** Fixes the seed; without it each {@link #build()} draws a fresh random one. */
        public Builder seed(long seed) {
            this.seed = seed;
            this.seedSet = true;
            return this;
        }

        /**
         * Validates and builds.
         *
         * @throws InvalidSamplingParameterException naming the first invalid parameter
         */
        public SamplingParams build() {
            long s = seedSet ? seed : SeedSource.next();
            return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, repetitionLastN, s);
        }
    }

    /** Lazily created so that greedy-only use never touches SecureRandom. */
    private static final class SeedSource {
        private static final SecureRandom RANDOM = new SecureRandom();

        static long next() {
            return RANDOM.nextLong() ^ System.nanoTime();
        }
    }
}
