package dev.gearbx.engine.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gearbx.engine.gguf.GgufMetadata;
import dev.gearbx.engine.gguf.GgufMetadataException;
import dev.gearbx.engine.gguf.GgufValue;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ThresholdsTest {

    private static GgufMetadata metadata(Map<String, GgufValue> extra) {
        Map<String, GgufValue> m = new HashMap<>(extra);
        m.put("general.architecture", GgufValue.ofString("llama"));
        m.put("general.name", GgufValue.ofString("Meta Llama 3.2 1B"));
        return new GgufMetadata(m);
    }

    @Test
    void aModelsOwnThresholdsWinOverItsFamilyPreset() {
        Thresholds own = Thresholds.forModel(metadata(Map.of(Thresholds.METADATA_KEY, GgufValue.ofFloats(0.1f, 0.5f))), 354);
        assertEquals(new Thresholds(0.1f, 0.5f), own);
        Thresholds preset = Thresholds.forModel(metadata(Map.of()), 128_256);
        assertEquals(ModelFamily.fromGguf(metadata(Map.of()), 128_256).thresholdsFor(128_256), preset);
    }

    @Test
    void lowStaysReachableFromMidWhenTheThresholdsAreSmall() {
        Thresholds small = new Thresholds(0.1f, 0.5f);
        assertEquals(0.05f, Router.effectiveHysteresis(0.1f, small), 1e-7f);
        assertEquals(0.1f, Router.effectiveHysteresis(0.1f, new Thresholds(2.2f, 4.5f)), 1e-7f);
        Router r = new Router(RoutingOptions.DEFAULT, 354, small, null, dev.gearbx.engine.gear.Gear.MID);
        dev.gearbx.engine.gear.Gear g = r.gear();
        for (int i = 0; i < 8; i++) {
            g = r.afterStep(0.001f);
        }
        assertEquals(dev.gearbx.engine.gear.Gear.LOW, g);
    }

    @Test
    void badThresholdsInTheFileNameTheKey() {
        for (GgufValue bad : new GgufValue[] {GgufValue.ofFloats(0.5f), GgufValue.ofFloats(0.5f, 0.1f), GgufValue.ofString("0.1,0.5")}) {
            GgufMetadataException e = assertThrows(GgufMetadataException.class,
                    () -> Thresholds.forModel(metadata(Map.of(Thresholds.METADATA_KEY, bad)), 354));
            assertTrue(e.getMessage().contains(Thresholds.METADATA_KEY), e.getMessage());
        }
    }
}
