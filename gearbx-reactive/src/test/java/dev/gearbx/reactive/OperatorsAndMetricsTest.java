package dev.gearbx.reactive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gearbx.engine.GearbxException;
import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.gear.GearConfig;
import dev.gearbx.engine.gear.ManagedScope;
import dev.gearbx.engine.routing.RoutingOptions;
import dev.gearbx.reactive.metrics.GearbxMeters;
import dev.gearbx.reactive.metrics.GearbxMetrics;
import dev.gearbx.reactive.spi.Availability;
import dev.gearbx.reactive.spi.Backend;
import dev.gearbx.reactive.spi.BackendProvider;
import dev.gearbx.reactive.spi.Backends;
import dev.gearbx.reactive.spi.CpuBackendProvider;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.tck.TestObservationRegistry;
import io.micrometer.observation.tck.TestObservationRegistryAssert;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 6: the fallback operator, Micrometer meters and the Observation, backend selection. */
class OperatorsAndMetricsTest {
    static final Duration TIMEOUT = Duration.ofMinutes(2);

    @TempDir
    Path dir;

    @Test
    void fallbackOperatorLiftsTheGearOnANearUniformModelAndWithoutItNothingDoes() {
        Path noise = ReactiveModels.noise(dir);
        try (GearbxModel m = Gearbx.builder().model(noise).gears(GearConfig.builder().scope(ManagedScope.ALL).build())
                .routing(RoutingOptions.builder().initialGear(Gear.LOW).minDuration(1000).catastrophicRun(0).build())
                .build()) {
            StreamOptions o = StreamOptions.builder().maxTokens(12).stopAtEndOfGeneration(false).build();
            List<Gear> with = m.stream("hello", o).transform(GearbxOperators.catastrophicFallback())
                    .map(StreamChunk::gear).collectList().block(TIMEOUT);
            assertEquals(List.of(Gear.LOW, Gear.LOW), with.subList(0, 2));
            assertTrue(with.subList(2, with.size()).stream().allMatch(g -> g == Gear.MID),
                    "after two catastrophic steps the following steps run at MID: " + with);
            List<Gear> without = m.stream("hello", o).map(StreamChunk::gear).collectList().block(TIMEOUT);
            assertEquals(Set.of(Gear.LOW), Set.copyOf(without), "without the operator the gear stays LOW");
            // reordering/stacking with other operators keeps the rule
            List<Gear> stacked = m.stream("hello", o).transform(GearbxOperators.tokenBudget(6))
                    .transform(GearbxOperators.guards()).map(StreamChunk::gear).collectList().block(TIMEOUT);
            assertEquals(List.of(Gear.LOW, Gear.LOW, Gear.MID, Gear.MID, Gear.MID, Gear.MID), stacked);
        }
    }

    @Test
    void metricsAndObservationAfterARun() {
        TestObservationRegistry observations = TestObservationRegistry.create();
        try (GearbxModel m = Gearbx.builder().model(ReactiveModels.stories260K()).observationRegistry(observations).build()) {
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            GearbxMetrics metrics = new GearbxMetrics(m);
            metrics.bindTo(registry);
            m.generate("Once upon a time", StreamOptions.builder().maxTokens(40).build()).block(TIMEOUT);
            Set<String> names = registry.getMeters().stream().map(x -> x.getId().getName()).collect(Collectors.toSet());
            for (GearbxMeters meter : GearbxMeters.values()) {
                assertTrue(names.contains(meter.meterName()), meter.meterName() + " registered: " + names);
                for (Meter x : registry.find(meter.meterName()).meters()) {
                    assertEquals(meter.type(), x.getId().getType(), meter.meterName());
                    assertEquals(Set.copyOf(meter.tagKeys()),
                            x.getId().getTags().stream().map(t -> t.getKey()).collect(Collectors.toSet()));
                }
            }
            Set<String> gears = registry.find("gearbx.tokens").counters().stream().map(c -> c.getId().getTag("gear"))
                    .collect(Collectors.toSet());
            assertEquals(Set.of("low", "mid", "high"), gears, "bounded tag values");
            double tokens = registry.find("gearbx.tokens").counters().stream().mapToDouble(c -> c.count()).sum();
            assertEquals(40, tokens);
            assertEquals(40, registry.get("gearbx.entropy").summary().count());
            assertEquals(40, registry.get("gearbx.step.duration").timer().count());
            assertEquals(1, registry.get("gearbx.time.to.first.token").timer().count());
            assertEquals(0, registry.get("gearbx.active.streams").gauge().value());
            TestObservationRegistryAssert.assertThat(observations).hasObservationWithNameEqualTo(GearbxModel.OBSERVATION_NAME)
                    .that().hasBeenStarted().hasBeenStopped().hasLowCardinalityKeyValue("gearbx.backend", "cpu");
            metrics.close();
        }
    }

    @Test
    void backendSelectionTakesTheUsableOneOfHighestRankAndExplainsTheOthers() {
        BackendProvider gpu = new BackendProvider() {
            @Override
            public String name() {
                return "fakegpu";
            }

            @Override
            public int rank() {
                return 100;
            }

            @Override
            public Availability availability() {
                return Availability.unusable("no device");
            }

            @Override
            public Backend create() {
                throw new AssertionError("unusable backends are never created");
            }
        };
        BackendProvider broken = new BackendProvider() {
            @Override
            public String name() {
                return "broken";
            }

            @Override
            public int rank() {
                return 50;
            }

            @Override
            public Availability availability() {
                throw new UnsatisfiedLinkError("libfoo.so");
            }

            @Override
            public Backend create() {
                throw new AssertionError();
            }
        };
        List<BackendProvider> providers = List.of(new CpuBackendProvider(), gpu, broken);
        Backends.Selection s = Backends.select(null, providers);
        assertEquals("cpu", s.chosen().name());
        assertTrue(s.others().get("fakegpu").contains("no device"), s.describe());
        assertTrue(s.others().get("broken").contains("libfoo.so"), s.describe());
        assertEquals("cpu", Backends.select("CPU", providers).chosen().name());
        assertTrue(assertThrows(GearbxException.class, () -> Backends.select("fakegpu", providers)).getMessage()
                .contains("no device"));
        assertTrue(assertThrows(GearbxException.class, () -> Backends.select("tpu", providers)).getMessage()
                .contains("fakegpu"));
        assertTrue(Backends.discover().stream().anyMatch(p -> p.name().equals("cpu")), "found through ServiceLoader");
    }
}
