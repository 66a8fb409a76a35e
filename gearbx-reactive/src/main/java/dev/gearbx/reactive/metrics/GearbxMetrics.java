package dev.gearbx.reactive.metrics;

import dev.gearbx.engine.gear.Gear;
import dev.gearbx.reactive.GearbxModel;
import dev.gearbx.reactive.GenerationListener;
import dev.gearbx.reactive.StreamChunk;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Binds the meters of {@link GearbxMeters} for one model's streams. The library never picks a
 * registry: bind it to yours.
 *
 * <pre>{@code
 * GearbxMetrics metrics = new GearbxMetrics(model);
 * metrics.bindTo(registry);         // e.g. a PrometheusMeterRegistry
 * }</pre>
 *
 * Close it to stop recording (the meters stay registered).
 */
public final class GearbxMetrics implements MeterBinder, AutoCloseable {
    private final GearbxModel model;
    /** The gauge's object, strongly held here (gauges keep weak references). */
    private final AtomicInteger activeStreams;
    private final List<AutoCloseable> registrations = new ArrayList<>();

    public GearbxMetrics(GearbxModel model) {
        this.model = Objects.requireNonNull(model, "model");
        this.activeStreams = model.activeStreamsCounter();
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        EnumMap<Gear, Counter> tokens = new EnumMap<>(Gear.class);
        for (Gear g : Gear.values()) {
            tokens.put(g, Counter.builder(GearbxMeters.TOKENS.meterName())
                    .description(GearbxMeters.TOKENS.description())
                    .baseUnit(GearbxMeters.TOKENS.baseUnit())
                    .tag(GearbxMeters.Tags.GEAR, g.name().toLowerCase(Locale.ROOT))
                    .register(registry));
        }
        DistributionSummary entropy = DistributionSummary.builder(GearbxMeters.ENTROPY.meterName())
                .description(GearbxMeters.ENTROPY.description())
                .baseUnit(GearbxMeters.ENTROPY.baseUnit())
                .register(registry);
        Counter shifts = Counter.builder(GearbxMeters.GEAR_SHIFTS.meterName())
                .description(GearbxMeters.GEAR_SHIFTS.description())
                .baseUnit(GearbxMeters.GEAR_SHIFTS.baseUnit())
                .register(registry);
        Timer step = Timer.builder(GearbxMeters.STEP_DURATION.meterName())
                .description(GearbxMeters.STEP_DURATION.description())
                .register(registry);
        Timer ttft = Timer.builder(GearbxMeters.TIME_TO_FIRST_TOKEN.meterName())
                .description(GearbxMeters.TIME_TO_FIRST_TOKEN.description())
                .register(registry);
        Gauge.builder(GearbxMeters.ACTIVE_STREAMS.meterName(), activeStreams, AtomicInteger::get)
                .description(GearbxMeters.ACTIVE_STREAMS.description())
                .baseUnit(GearbxMeters.ACTIVE_STREAMS.baseUnit())
                .register(registry);
        AutoCloseable handle = model.addListener(new GenerationListener() {
            @Override
            public void token(StreamChunk chunk) {
                tokens.get(chunk.gear()).increment();
                entropy.record(chunk.entropy());
                if (chunk.shifted()) {
                    shifts.increment();
                }
                step.record(chunk.stepNanos(), TimeUnit.NANOSECONDS);
            }

            @Override
            public void firstToken(long nanos) {
                ttft.record(nanos, TimeUnit.NANOSECONDS);
            }
        });
        synchronized (registrations) {
            registrations.add(handle);
        }
    }

    /** Stops recording into every registry this binder was bound to. */
    @Override
    public void close() {
        synchronized (registrations) {
            for (AutoCloseable r : registrations) {
                try {
                    r.close();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
            registrations.clear();
        }
    }
}
