package dev.gearbx.engine.generate;

import dev.gearbx.engine.model.ContextOverflowException;
import dev.gearbx.engine.routing.GearPolicy;
import dev.gearbx.engine.routing.RoutingOptions;
import dev.gearbx.engine.sampling.Sampler;
import dev.gearbx.engine.sampling.SamplingParams;
import dev.gearbx.engine.tokenizer.Tokenizer;
import java.util.Objects;

/**
 * What to generate: a prompt, a token budget and the sampling settings. Immutable; build with
 * {@link #builder(String)}.
 *
 * @param prompt the prompt text
 * @param maxTokens most tokens to generate (at least 1)
 * @param sampling sampling settings (greedy by default)
 * @param addBos prepend BOS; null means as the model's tokenizer says
 * @param parseSpecial turn special tokens written in the prompt (e.g. {@code <|eot_id|>}) into their ids
 * @param stopAtEndOfGeneration stop at EOS/EOT tokens (the token itself is not emitted)
 * @param routing how gears are chosen (entropy routing with the family preset by default)
 * @param policy makes a custom gear policy for each generation, or null for the threshold policy the
 *     routing options describe
 * @param sampler makes the sampler of each generation, or null for {@link Sampler#of(SamplingParams)}
 *     of {@code sampling}
 * @param interceptor makes the step interceptor of each generation (NaN guard, gear overrides);
 *     null means {@link StepInterceptor#RETRY_ONE_GEAR_UP}
 * @param topLogprobs how many of each step's most likely tokens to report with their
 *     log-probabilities ({@link GeneratedToken#topLogprobs()}), {@code 0..}{@value #MAX_TOP_LOGPROBS}
 */
public record GenerationRequest(
        String prompt,
        int maxTokens,
        SamplingParams sampling,
        @org.jspecify.annotations.Nullable Boolean addBos,
        boolean parseSpecial,
        boolean stopAtEndOfGeneration,
        RoutingOptions routing,
        java.util.function.@org.jspecify.annotations.Nullable Supplier<GearPolicy> policy,
        java.util.function.@org.jspecify.annotations.Nullable Supplier<Sampler> sampler,
        java.util.function.@org.jspecify.annotations.Nullable Supplier<StepInterceptor> interceptor,
        int topLogprobs) {

    /** Most top log-probabilities a step reports (OpenAI's limit). */
    public static final int MAX_TOP_LOGPROBS = 20;

    /** The request without top log-probabilities. */
    public GenerationRequest(String prompt, int maxTokens, SamplingParams sampling,
            @org.jspecify.annotations.Nullable Boolean addBos, boolean parseSpecial, boolean stopAtEndOfGeneration,
            RoutingOptions routing, java.util.function.@org.jspecify.annotations.Nullable Supplier<GearPolicy> policy,
            java.util.function.@org.jspecify.annotations.Nullable Supplier<Sampler> sampler,
            java.util.function.@org.jspecify.annotations.Nullable Supplier<StepInterceptor> interceptor) {
        this(prompt, maxTokens, sampling, addBos, parseSpecial, stopAtEndOfGeneration, routing, policy, sampler,
                interceptor, 0);
    }

    /** The request without a custom sampler or interceptor. */
    public GenerationRequest(String prompt, int maxTokens, SamplingParams sampling,
            @org.jspecify.annotations.Nullable Boolean addBos, boolean parseSpecial, boolean stopAtEndOfGeneration,
            RoutingOptions routing, java.util.function.@org.jspecify.annotations.Nullable Supplier<GearPolicy> policy) {
        this(prompt, maxTokens, sampling, addBos, parseSpecial, stopAtEndOfGeneration, routing, policy, null, null);
    }

    public GenerationRequest {
        Objects.requireNonNull(routing, "routing");
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(sampling, "sampling");
        if (maxTokens < 1) {
            throw new IllegalArgumentException("maxTokens must be at least 1, got " + maxTokens);
        }
        if (topLogprobs < 0 || topLogprobs > MAX_TOP_LOGPROBS) {
            throw new IllegalArgumentException("topLogprobs must be in [0, " + MAX_TOP_LOGPROBS + "], got " + topLogprobs);
        }
    }

    /**
     * The prompt's token ids as every backend starts from them: BOS as {@link #addBos()} says, else as the
     * tokenizer says; an empty result, or one that leaves no room for a token in {@code contextLength}, is an error.
     *
     * @throws IllegalArgumentException when the prompt encodes to nothing and the model has no BOS token
     * @throws ContextOverflowException when the prompt fills the context
     */
    public int[] encodePrompt(Tokenizer tokenizer, int contextLength) {
        boolean bos = addBos != null ? addBos : tokenizer.specialTokens().addBos();
        int[] tokens = tokenizer.encode(prompt, bos, parseSpecial);
        if (tokens.length == 0) {
            throw new IllegalArgumentException("the prompt is empty and the model has no BOS token to start from");
        }
        if (tokens.length >= contextLength) {
            throw new ContextOverflowException(contextLength, tokens.length + 1);
        }
        return tokens;
    }

    public static Builder builder(String prompt) {
        return new Builder(prompt);
    }

    public Builder toBuilder() {
        Builder b = new Builder(prompt);
        b.maxTokens = maxTokens;
        b.sampling = sampling;
        b.addBos = addBos;
        b.parseSpecial = parseSpecial;
        b.stopAtEndOfGeneration = stopAtEndOfGeneration;
        b.routing = routing;
        b.policy = policy;
        b.sampler = sampler;
        b.interceptor = interceptor;
        b.topLogprobs = topLogprobs;
        return b;
    }

    /** Builder for {@link GenerationRequest}; defaults: 256 tokens, greedy, BOS as the model says. */
    public static final class Builder {
        private String prompt;
        private int maxTokens = 256;
        private SamplingParams sampling = SamplingParams.greedy();
        private @org.jspecify.annotations.Nullable Boolean addBos;
        private boolean parseSpecial;
        private boolean stopAtEndOfGeneration = true;
        private RoutingOptions routing = RoutingOptions.DEFAULT;
        private java.util.function.@org.jspecify.annotations.Nullable Supplier<GearPolicy> policy;
        private java.util.function.@org.jspecify.annotations.Nullable Supplier<Sampler> sampler;
        private java.util.function.@org.jspecify.annotations.Nullable Supplier<StepInterceptor> interceptor;
        private int topLogprobs;

        private Builder(String prompt) {
            this.prompt = Objects.requireNonNull(prompt, "prompt");
        }

        /** Replaces the prompt (for running the same settings on another prompt). */
        public Builder prompt(String prompt) {
            this.prompt = Objects.requireNonNull(prompt, "prompt");
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

        public Builder addBos(boolean addBos) {
            this.addBos = addBos;
            return this;
        }

        /** Sets addBos, or back to "as the model's tokenizer says" when null. */
        public Builder addBosOrDefault(@org.jspecify.annotations.Nullable Boolean addBos) {
            this.addBos = addBos;
            return this;
        }

        public Builder parseSpecial(boolean parseSpecial) {
            this.parseSpecial = parseSpecial;
            return this;
        }

        public Builder stopAtEndOfGeneration(boolean stop) {
            this.stopAtEndOfGeneration = stop;
            return this;
        }

        public Builder routing(RoutingOptions routing) {
            this.routing = routing;
            return this;
        }

        /** A custom gear policy, made anew for each generation (policies keep per-sequence state). */
        public Builder policy(java.util.function.@org.jspecify.annotations.Nullable Supplier<GearPolicy> policy) {
            this.policy = policy;
            return this;
        }

        /** A custom sampler, made anew for each generation (samplers keep per-sequence state); null: from {@code sampling}. */
        public Builder sampler(java.util.function.@org.jspecify.annotations.Nullable Supplier<Sampler> sampler) {
            this.sampler = sampler;
            return this;
        }

        /** A step interceptor, made anew for each generation; null: {@link StepInterceptor#RETRY_ONE_GEAR_UP}. */
        public Builder interceptor(java.util.function.@org.jspecify.annotations.Nullable Supplier<StepInterceptor> interceptor) {
            this.interceptor = interceptor;
            return this;
        }

        /** Report each step's {@code n} most likely tokens with their log-probabilities (0: none). */
        public Builder topLogprobs(int n) {
            this.topLogprobs = n;
            return this;
        }

        public GenerationRequest build() {
            return new GenerationRequest(prompt, maxTokens, sampling, addBos, parseSpecial, stopAtEndOfGeneration,
                    routing, policy, sampler, interceptor, topLogprobs);
        }
    }
}
