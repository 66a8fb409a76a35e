package dev.gearbx.reactive;

import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.generate.StepInterceptor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import reactor.util.context.Context;
import reactor.util.context.ContextView;

/**
 * Carries step rules from operators down the chain to the stream's source through the Reactor
 * context. Rules closer to the source come first in the list; in {@code nextGear} each rule sees
 * the gear the previous one decided, so the one nearest the subscriber has the last word.
 */
final class StepRules {
    private static final Object KEY = StepRules.class;

    private StepRules() {}

    /** Adds a rule in front of those written by operators further downstream. */
    static Context prepend(Context context, Supplier<StepInterceptor> rule) {
        List<Supplier<StepInterceptor>> current = context.getOrDefault(KEY, List.of());
        List<Supplier<StepInterceptor>> next = new ArrayList<>(current.size() + 1);
        next.add(rule);
        next.addAll(current);
        return context.put(KEY, List.copyOf(next));
    }

    /** One interceptor that consults every rule of the context in order, made anew for a stream. */
    static StepInterceptor of(ContextView context) {
        List<Supplier<StepInterceptor>> suppliers = context.getOrDefault(KEY, List.of());
        if (suppliers.isEmpty()) {
            return StepInterceptor.NONE;
        }
        StepInterceptor[] rules = suppliers.stream().map(Supplier::get).toArray(StepInterceptor[]::new);
        return new StepInterceptor() {
            @Override
            public @Nullable Gear onNonFiniteLogits(int position, Gear gear) {
                for (StepInterceptor r : rules) {
                    Gear g = r.onNonFiniteLogits(position, gear);
                    if (g != null) {
                        return g;
                    }
                }
                return null;
            }

            @Override
            public Gear nextGear(StepInfo step, Gear proposed) {
                Gear g = proposed;
                for (StepInterceptor r : rules) {
                    g = r.nextGear(step, g);
                }
                return g;
            }
        };
    }
}
