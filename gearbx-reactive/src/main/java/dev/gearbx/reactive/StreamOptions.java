package dev.gearbx.reactive;

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
 */
public record StreamOptions(
        int maxTokens,
        @Nullable SamplingParams sampling,
        @Nullable RoutingOptions routing,
        @Nullable Supplier<GearPolicy> policy,
        @Nullable Supplier<Sampler> sampler,
        boolean stopAtEndOfGeneration) {

    private static final StreamOptions DEFAULTS = builder().build();

    public StreamOptions {
        if (maxTokens < 0) {
            throw new IllegalArgumentException("maxTokens must be >= 0 (0: the model's default), got " + maxTokens);
        }
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

        private Builder() {}

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
            return new StreamOptions(maxTokens, sampling, routing, policy, sampler, stopAtEndOfGeneration);
        }
    }
}
