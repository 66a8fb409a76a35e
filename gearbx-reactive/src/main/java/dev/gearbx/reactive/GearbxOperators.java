package dev.gearbx.reactive;

import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.generate.StepInterceptor;
import dev.gearbx.engine.routing.EntropyMonitor;
import dev.gearbx.engine.routing.ThresholdPolicy;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;

/**
 * The rules around generation as operators for {@link Flux#transform}: add, remove or reorder them.
 *
 * <pre>{@code
 * model.stream("Once upon a time")
 *      .transform(GearbxOperators.nanGuard())
 *      .transform(GearbxOperators.catastrophicFallback())
 *      .transform(GearbxOperators.stopSequences("\n\n"))
 *      .transform(GearbxOperators.tokenBudget(200))
 *      .transform(GearbxOperators.timeBudget(Duration.ofSeconds(10)));
 * }</pre>
 *
 * <p>Two kinds:
 * <ul>
 *   <li><b>Step rules</b> ({@link #nanGuard()}, {@link #catastrophicFallback()}, {@link #stepRule})
 *       act inside the decode step, through the engine's {@link StepInterceptor} hook: they travel
 *       to the stream's source in the Reactor context at subscription, and the source runs them on
 *       its compute thread in every step, so a decision always applies to the very next step. They
 *       let every chunk through unchanged. Rules nearer the source run first; in the gear decision
 *       the one nearest the subscriber has the last word. A stream without a NaN guard fails with
 *       {@link dev.gearbx.engine.generate.NumericalInstabilityException} on non-finite logits; one
 *       without the fallback never leaves LOW because of noise-like entropy (the model's default
 *       routing turns the policy's own fallback off, so that this operator owns the rule).
 *   <li><b>Stream rules</b> ({@link #stopSequences}, {@link #tokenBudget}, {@link #timeBudget})
 *       cut the stream: they complete it downstream and cancel upstream, which stops generation
 *       within one step and frees the sequence's KV cache.
 * </ul>
 */
public final class GearbxOperators {
    private GearbxOperators() {}

    /** Adds a step rule of your own (one instance per stream, made by {@code rule}). */
    public static Function<Flux<StreamChunk>, Flux<StreamChunk>> stepRule(Supplier<StepInterceptor> rule) {
        Objects.requireNonNull(rule, "rule");
        return flux -> flux.contextWrite(ctx -> StepRules.prepend(ctx, rule));
    }

    /**
     * NaN guard: a step whose logits hold NaN or infinity is run once more one gear higher; if that
     * fails too (or it ran at HIGH) the stream fails with a NumericalInstabilityException.
     */
    public static Function<Flux<StreamChunk>, Flux<StreamChunk>> nanGuard() {
        return stepRule(() -> StepInterceptor.RETRY_ONE_GEAR_UP);
    }

    /**
     * Catastrophic-entropy fallback with the defaults: 2 consecutive steps above 90% of log2(V)
     * while at LOW make the next step run at MID.
     */
    public static Function<Flux<StreamChunk>, Flux<StreamChunk>> catastrophicFallback() {
        return catastrophicFallback(ThresholdPolicy.DEFAULT_CATASTROPHIC_RUN, EntropyMonitor.DEFAULT_CATASTROPHIC_FRACTION);
    }

    /**
     * Catastrophic-entropy fallback: after {@code run} consecutive steps whose entropy exceeds
     * {@code fraction · log2(V)} (near-uniform noise, the mark of a broken quantization), a next
     * step proposed at LOW runs at MID instead.
     *
     * @throws IllegalArgumentException if run < 1 or fraction is not in (0, 1]
     */
    public static Function<Flux<StreamChunk>, Flux<StreamChunk>> catastrophicFallback(int run, double fraction) {
        if (run < 1) {
            throw new IllegalArgumentException("run must be at least 1, got " + run);
        }
        if (!(fraction > 0 && fraction <= 1)) {
            throw new IllegalArgumentException("fraction must be in (0, 1], got " + fraction);
        }
        return stepRule(() -> new CatastrophicFallback(run, fraction));
    }

    /**
     * Completes the stream when the generated text contains one of {@code stops}. The chunk that
     * completes a stop sequence is emitted with its text cut just before it (or not at all when
     * nothing of it precedes the stop); chunks emitted before it may hold the beginning of the stop
     * sequence (nothing is held back, so demand stays one to one).
     */
    public static Function<Flux<StreamChunk>, Flux<StreamChunk>> stopSequences(String... stops) {
        List<String> list = List.of(stops);
        for (String s : list) {
            if (s.isEmpty()) {
                throw new IllegalArgumentException("stop sequences must not be empty");
            }
        }
        int longest = list.stream().mapToInt(String::length).max().orElse(0);
        return flux -> Flux.defer(() -> {
            StringBuilder tail = new StringBuilder();
            return flux.handle((chunk, sink) -> {
                int before = tail.length();
                tail.append(chunk.text());
                int cut = -1;
                for (String s : list) {
                    int at = tail.indexOf(s);
                    if (at >= 0 && (cut < 0 || at < cut)) {
                        cut = at;
                    }
                }
                if (cut < 0) {
                    // keep only what a stop sequence could still start in
                    if (tail.length() > longest) {
                        tail.delete(0, tail.length() - longest);
                    }
                    sink.next(chunk);
                    return;
                }
                int keep = cut - before;
                if (keep > 0) {
                    sink.next(chunk.withText(chunk.text().substring(0, keep)));
                }
                sink.complete();
            });
        });
    }

    /** At most {@code tokens} chunks; never requests more than that upstream ({@code take} with limited demand). */
    public static Function<Flux<StreamChunk>, Flux<StreamChunk>> tokenBudget(long tokens) {
        if (tokens < 0) {
            throw new IllegalArgumentException("token budget must be >= 0, got " + tokens);
        }
        return flux -> flux.take(tokens);
    }

    /** Completes the stream once {@code budget} has passed since subscription (timer on Reactor's parallel scheduler). */
    public static Function<Flux<StreamChunk>, Flux<StreamChunk>> timeBudget(Duration budget) {
        Objects.requireNonNull(budget, "budget");
        if (budget.isNegative()) {
            throw new IllegalArgumentException("time budget must be >= 0, got " + budget);
        }
        return flux -> flux.take(budget);
    }

    /** Both guards, NaN guard first: what a stream should normally run with. */
    public static Function<Flux<StreamChunk>, Flux<StreamChunk>> guards() {
        return flux -> flux.transform(nanGuard()).transform(catastrophicFallback());
    }

    private static final class CatastrophicFallback implements StepInterceptor {
        private final int run;
        private final double fraction;
        private int consecutive;

        CatastrophicFallback(int run, double fraction) {
            this.run = run;
            this.fraction = fraction;
        }

        @Override
        public Gear nextGear(StepInfo step, Gear proposed) {
            double limit = fraction * (Math.log(step.vocabularySize()) / Math.log(2));
            consecutive = step.entropy() > limit ? consecutive + 1 : 0;
            return consecutive >= run && proposed == Gear.LOW ? Gear.MID : proposed;
        }

        @Override
        public @Nullable Gear onNonFiniteLogits(int position, Gear gear) {
            return null;
        }
    }

}
