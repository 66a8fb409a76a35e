package dev.gearbx.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gearbx.reactive.Gearbx;
import dev.gearbx.reactive.GearbxModel;
import dev.gearbx.reactive.StreamChunk;
import dev.gearbx.reactive.spi.Backends;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The backend through the SPI: found by ServiceLoader, chosen only when forced, streaming the reference text. */
class DjlBackendProviderTest {

    @Test
    void foundByServiceLoaderBelowTheCpuBackend() {
        assertTrue(Backends.discover().stream().anyMatch(p -> p.name().equals(DjlBackendProvider.NAME)));
        assertEquals("cpu", Backends.select(null).chosen().name(), "the CPU backend outranks DJL unless forced");
        assertEquals(DjlBackendProvider.NAME, Backends.select("djl").chosen().name());
    }

    @Test
    void streamsTheReferenceTextWhenForced() {
        try (GearbxModel model = Gearbx.builder().model(DjlForwardDifferentialTest.stories260K()).backend("djl")
                .maxTokens(32).routing(dev.gearbx.engine.routing.RoutingOptions.pinned(dev.gearbx.engine.gear.Gear.HIGH))
                .build()) {
            String text = model.stream("Once upon a time").map(StreamChunk::text).collectList().block()
                    .stream().collect(Collectors.joining());
            assertEquals(", there was a little girl named Lily. She loved to play outside in the park. One day, she saw", text);
        }
    }
}
