package dev.gearbx.reactive;

/**
 * The five stages of a decode step, in the order they run inside one step of a stream. They run
 * together on the stream's compute thread (a step is the unit of demand, cancellation and
 * scheduling); each names the piece a user can replace. {@link GearbxModel#pipeline()} says what
 * a model runs at each stage.
 */
public enum Stage {
    /** Token in, logits out at the current gear: the backend's forward pass (chosen through the backend SPI). */
    FORWARD("backend forward pass; replace the backend through dev.gearbx.reactive.spi.BackendProvider"),
    /**
     * Entropy of the logits in bits and its rolling window ({@code EntropyMonitor}); a NaN guard
     * ({@link GearbxOperators#nanGuard()}) may rerun the step one gear higher.
     */
    ENTROPY_WINDOW("entropy in bits and rolling window; window size through RoutingOptions.window"),
    /**
     * The gear policy proposes the next step's gear, with deferred batching of device syncs
     * (every k steps, {@code deferredSync(k)}); step rules ({@link GearbxOperators#catastrophicFallback()})
     * may override it. Replace the policy with {@code policy(Supplier<GearPolicy>)}.
     */
    GEAR_DECISION("gear policy (own policy through policy(...)), deferred every k steps, then step-rule operators"),
    /** The sequence's gear becomes the decided one: a field write, no copy. */
    SWAP("gear shift as a field write on the sequence state"),
    /** The next token from the logits; replace the sampler with {@code sampler(Supplier<Sampler>)}. */
    SAMPLE("sampler (own sampler through sampler(...))");

    private final String description;

    Stage(String description) {
        this.description = description;
    }

    public String description() {
        return description;
    }
}
