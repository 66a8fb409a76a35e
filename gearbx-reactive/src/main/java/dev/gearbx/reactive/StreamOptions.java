package dev.gearbx.reactive;

import dev.gearbx.engine.generate.GenerationRequest;
import dev.gearbx.engine.routing.GearPolicy;
import dev.gearbx.engine.routing.RoutingOptions;
import dev.gearbx.engine.sampling.Sampler;
import dev.gearbx.engine.sampling.SamplingParams;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * Per-stream settings; a null component means "as the model was built". Build with
 * {@link #builder()}.
 *
 * @param maxTokens most tokens to generate, or 0 for the model's default
 * @param sampling sampling settings
 * @param routing routing options
 * @param policy makes the gear policy of the stream (stage {@link Stage#GEAR_DECISION})
 * @param sampler makes the sampler of the stream (stage {@link Stage#SAMPLE})
 * @param stopAtEndOfGeneration stop at EOS/EOT (the token itself is not emitted)
 * @param topLogprobs how many of each step's most likely tokens a chunk carries
 *     ({@link StreamChunk#topLogprobs()}), 0 to 20
 */
public record StreamOptions(
        int maxTokens,
        @Nullable SamplingParams sampling,
        @Nullable RoutingOptions routing,
        @Nullable Supplier<GearPolicy> policy,
        @Nullable Supplier<Sampler> sampler,
        boolean stopAtEndOfGeneration,
        int topLogprobs) {

    private static final StreamOptions DEFAULTS = builder().build();

    public StreamOptions {
        if (maxTokens < 0) {
            throw new IllegalArgumentException("maxTokens must be >= 0 (0: the model's default), got " + maxTokens);
        }
        if (topLogprobs < 0 || topLogprobs > GenerationRequest.MAX_TOP_LOGPROBS) {
            throw new IllegalArgumentException("topLogprobs must be in [0, " + GenerationRequest.MAX_TOP_LOGPROBS
                    + "], got " + topLogprobs);
        }
    }

    /** Settings without top log-probabilities. */
    public StreamOptions(int maxTokens, @Nullable SamplingParams sampling, @Nullable RoutingOptions routing,
            @Nullable Supplier<GearPolicy> policy, @Nullable Supplier<Sampler> sampler, boolean stopAtEndOfGeneration) {
        this(maxTokens, sampling, routing, policy, sampler, stopAtEndOfGeneration, 0);
    }

    /** The model's defaults. */
    public static StreamOptions defaults() {
        return DEFAULTS;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Collects stream settings. */
    public static final class Builder {
        private int maxTokens;
        private @Nullable SamplingParams sampling;
        private @Nullable RoutingOptions routing;
        private @Nullable Supplier<GearPolicy> policy;
        private @Nullable Supplier<Sampler> sampler;
        private boolean stopAtEndOfGeneration = true;
        private int topLogprobs;

        private Builder() {}

        /** Each chunk carries the step's {@code n} most likely tokens with their log-probabilities (0 to 20). */
        public Builder topLogprobs(int n) {
            this.topLogprobs = n;
            return this;
        }

        public Builder maxTokens(int maxTokens) {
            this.maxTokens = maxTokens;
            return this;
        }

        public Builder sampling(SamplingParams sampling) {
            this.sampling = sampling;
            return this;
        }

        public Builder routing(RoutingOptions routing) {
            this.routing = routing;
            return this;
        }

        public Builder stopAtEndOfGeneration(boolean stop) {
            this.stopAtEndOfGeneration = stop;
            return this;
        }

        /** Own gear policy, made anew per stream (policies keep per-sequence state). */
        public Builder policy(Supplier<GearPolicy> policy) {
            this.policy = policy;
            return this;
        }

        /** Own sampler, made anew per stream (samplers keep per-sequence state). */
        public Builder sampler(Supplier<Sampler> sampler) {
            this.sampler = sampler;
            return this;
        }

        public StreamOptions build() {
            return new StreamOptions(maxTokens, sampling, routing, policy, sampler, stopAtEndOfGeneration, topLogprobs);
        }
    }
}
