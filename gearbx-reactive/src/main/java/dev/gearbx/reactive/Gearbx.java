package dev.gearbx.reactive;

import dev.gearbx.engine.gear.GearConfig;
import dev.gearbx.engine.routing.GearPolicy;
import dev.gearbx.engine.routing.RoutingOptions;
import dev.gearbx.engine.sampling.Sampler;
import dev.gearbx.engine.sampling.SamplingParams;
import dev.gearbx.reactive.models.ModelReference;
import dev.gearbx.reactive.spi.Backends;
import dev.gearbx.reactive.spi.LoadedModel;
import dev.gearbx.reactive.spi.RemoteBackend;
import io.micrometer.observation.ObservationRegistry;
import java.nio.file.Path;
import java.util.Objects;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Entry point: {@code Gearbx.builder().model("stories260K.gguf").build()} loads a
 * {@link GearbxModel}.
 */
public final class Gearbx {
    private Gearbx() {}

    /**
     * Routing the builder starts from: the engine's default entropy routing, with the policy's own
     * catastrophic fallback off, because here the fallback is an operator
     * ({@link GearbxOperators#catastrophicFallback()}).
     */
    public static final RoutingOptions DEFAULT_ROUTING = RoutingOptions.builder().catastrophicRun(0).build();

    /** A builder with the defaults (no model yet). */
    public static Builder builder() {
        return new Builder(null, GearConfig.DEFAULT, DEFAULT_ROUTING, SamplingParams.greedy(), 0,
                Runtime.getRuntime().availableProcessors(), null, 256, null, null, ObservationRegistry.NOOP, null);
    }

    /**
     * Immutable and fluent: every method returns a new builder, so one can be shared and varied.
     * {@link #build()} loads the model.
     */
    public static final class Builder {
        private final @Nullable String model;
        private final GearConfig gears;
        private final RoutingOptions routing;
        private final SamplingParams sampling;
        private final int deferredSync;
        private final int computeThreads;
        private final @Nullable String backend;
        private final int maxTokens;
        private final @Nullable Supplier<GearPolicy> policy;
        private final @Nullable Supplier<Sampler> sampler;
        private final ObservationRegistry observationRegistry;
        private final @Nullable RemoteBackend remote;

        private Builder(@Nullable String model, GearConfig gears, RoutingOptions routing, SamplingParams sampling,
                int deferredSync, int computeThreads, @Nullable String backend, int maxTokens,
                @Nullable Supplier<GearPolicy> policy, @Nullable Supplier<Sampler> sampler,
                ObservationRegistry observationRegistry, @Nullable RemoteBackend remote) {
            this.model = model;
            this.gears = gears;
            this.routing = routing;
            this.sampling = sampling;
            this.deferredSync = deferredSync;
            this.computeThreads = computeThreads;
            this.backend = backend;
            this.maxTokens = maxTokens;
            this.policy = policy;
            this.sampler = sampler;
            this.observationRegistry = observationRegistry;
            this.remote = remote;
        }

        /** A model file path or {@code ollama:NAME[:TAG]}. */
        public Builder model(String reference) {
            return new Builder(Objects.requireNonNull(reference, "reference"), gears, routing, sampling, deferredSync,
                    computeThreads, backend, maxTokens, policy, sampler, observationRegistry, remote);
        }

        public Builder model(Path file) {
            return model(file.toString());
        }

        /** Which layers follow the gear and in which formats (managed layers, gear formats). */
        public Builder gears(GearConfig gears) {
            return new Builder(model, Objects.requireNonNull(gears, "gears"), routing, sampling, deferredSync,
                    computeThreads, backend, maxTokens, policy, sampler, observationRegistry, remote);
        }

        /** Thresholds or calibration, window, hysteresis, pinning ({@link #DEFAULT_ROUTING} by default). */
        public Builder routing(RoutingOptions routing) {
            return new Builder(model, gears, Objects.requireNonNull(routing, "routing"), sampling, deferredSync,
                    computeThreads, backend, maxTokens, policy, sampler, observationRegistry, remote);
        }

        public Builder sampling(SamplingParams sampling) {
            return new Builder(model, gears, routing, Objects.requireNonNull(sampling, "sampling"), deferredSync,
                    computeThreads, backend, maxTokens, policy, sampler, observationRegistry, remote);
        }

        /** Hand entropies to the gear policy in batches of k steps (a GPU backend's deferred readback); 1 on CPU. */
        public Builder deferredSync(int k) {
            if (k < 1) {
                throw new IllegalArgumentException("deferredSync must be at least 1, got " + k);
            }
            return new Builder(model, gears, routing, sampling, k, computeThreads, backend, maxTokens, policy, sampler,
                    observationRegistry, remote);
        }

        /** Threads of the model's compute pool: at most this many streams step at the same time. */
        public Builder computeThreads(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("computeThreads must be at least 1, got " + n);
            }
            return new Builder(model, gears, routing, sampling, deferredSync, n, backend, maxTokens, policy, sampler,
                    observationRegistry, remote);
        }

        /** Forces a backend by name (else {@code -Dgearbx.backend}, {@code GEARBX_BACKEND}, or automatic). */
        public Builder backend(String name) {
            return new Builder(model, gears, routing, sampling, deferredSync, computeThreads,
                    Objects.requireNonNull(name, "name"), maxTokens, policy, sampler, observationRegistry, remote);
        }

        /** Default token budget of a stream (256). */
        public Builder maxTokens(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("maxTokens must be at least 1, got " + n);
            }
            return new Builder(model, gears, routing, sampling, deferredSync, computeThreads, backend, n, policy, sampler,
                    observationRegistry, remote);
        }

        /** Own gear policy, made anew per stream (stage {@link Stage#GEAR_DECISION}). */
        public Builder policy(Supplier<GearPolicy> policy) {
            return new Builder(model, gears, routing, sampling, deferredSync, computeThreads, backend, maxTokens,
                    Objects.requireNonNull(policy, "policy"), sampler, observationRegistry, remote);
        }

        /** Own sampler, made anew per stream (stage {@link Stage#SAMPLE}). */
        public Builder sampler(Supplier<Sampler> sampler) {
            return new Builder(model, gears, routing, sampling, deferredSync, computeThreads, backend, maxTokens, policy,
                    Objects.requireNonNull(sampler, "sampler"), observationRegistry, remote);
        }

        /** Makes an Observation ({@value GearbxModel#OBSERVATION_NAME}) per generation. */
        public Builder observationRegistry(ObservationRegistry registry) {
            return new Builder(model, gears, routing, sampling, deferredSync, computeThreads, backend, maxTokens, policy,
                    sampler, Objects.requireNonNull(registry, "registry"), remote);
        }

        /**
         * Streams from a remote backend instead of a local model file (e.g. an OpenAI-compatible
         * server through {@link dev.gearbx.reactive.client.OpenAiBackend}); the model reference,
         * gears and backend name are then not used. User code on the built {@link GearbxModel} is
         * the same as for a local model.
         */
        public Builder remote(RemoteBackend remote) {
            return new Builder(model, gears, routing, sampling, deferredSync, computeThreads, backend, maxTokens, policy,
                    sampler, observationRegistry, Objects.requireNonNull(remote, "remote"));
        }

        RoutingOptions routing() {
            return routing;
        }

        SamplingParams sampling() {
            return sampling;
        }

        int deferredSync() {
            return deferredSync;
        }

        int maxTokens() {
            return maxTokens;
        }

        @Nullable Supplier<GearPolicy> policy() {
            return policy;
        }

        @Nullable Supplier<Sampler> sampler() {
            return sampler;
        }

        ObservationRegistry observationRegistry() {
            return observationRegistry;
        }

        /**
         * Resolves the model, selects the backend (logged once) and loads the model.
         *
         * @throws IllegalStateException if no model was set
         * @throws dev.gearbx.engine.GearbxException (subclasses) if the model cannot be found or loaded,
         *     or the forced backend is unknown or unusable
         */
        public GearbxModel build() {
            if (remote != null) {
                LoadedModel connected = remote.connect();
                Scheduler scheduler = Schedulers.newBoundedElastic(computeThreads, Integer.MAX_VALUE, "gearbx-compute", 60, true);
                return new GearbxModel(connected, remote.name(), scheduler, this);
            }
            if (model == null) {
                throw new IllegalStateException("no model: call model(path or \"ollama:NAME\") before build()");
            }
            Path file = ModelReference.resolve(model);
            Backends.Selection selection = Backends.select(backend);
            LoadedModel loaded = selection.chosen().create().load(file, gears);
            Scheduler scheduler = Schedulers.newBoundedElastic(computeThreads, Integer.MAX_VALUE, "gearbx-compute", 60, true);
            return new GearbxModel(loaded, selection.chosen().name(), scheduler, this);
        }
    }
}
