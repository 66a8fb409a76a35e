package dev.gearbx.engine.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.gear.GearConfig;
import dev.gearbx.engine.gear.ManagedScope;
import dev.gearbx.engine.model.LlamaModel;
import dev.gearbx.engine.testing.TestModels;
import dev.gearbx.engine.routing.RoutingOptions;
import dev.gearbx.engine.tensor.Kernels;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Escalation: a step that comes out too uncertain below HIGH is run again at HIGH before its token is taken. */
class EscalationTest {
    static final GearConfig ALL = GearConfig.builder().scope(ManagedScope.ALL).build();

    @Test
    void noTokenBelowHighIsMoreUncertainThanTheHighThreshold() {
        float high = 1.0f;
        RoutingOptions escalating = RoutingOptions.builder().thresholds(0.5f, high).initialGear(Gear.LOW).escalate(true).build();
        try (LlamaModel m = LlamaModel.load(TestModels.stories260K(), Kernels.preferred(), ALL)) {
            Generator g = new Generator(m);
            List<GeneratedToken> tokens = new ArrayList<>();
            long escalations;
            long forwards;
            int promptTokens;
            try (Generation gen = g.start(GenerationRequest.builder("Once upon a time").maxTokens(60)
                    .stopAtEndOfGeneration(false).routing(escalating).build())) {
                while (gen.hasNext()) {
                    tokens.add(gen.next());
                }
                escalations = gen.escalations();
                forwards = gen.forwardPasses();
                promptTokens = gen.promptTokens().length;
            }
            assertTrue(escalations > 0, "stories260K is often uncertain above 1 bit: some steps must escalate");
            for (GeneratedToken t : tokens) {
                if (t.gear() != Gear.HIGH) {
                    assertTrue(t.entropy() <= high, "token " + t.index() + " at " + t.gear() + " has " + t.entropy() + " bits");
                }
            }
            // one forward per prompt token but the last, one per generated token, one more per escalation
            assertEquals(promptTokens - 1 + tokens.size() + escalations, forwards);

            // without escalation the same options leave uncertain tokens at the lower gears
            List<GeneratedToken> plain = new ArrayList<>();
            try (Generation gen = g.start(GenerationRequest.builder("Once upon a time").maxTokens(60)
                    .stopAtEndOfGeneration(false).routing(escalating.toBuilder().escalate(false).build()).build())) {
                while (gen.hasNext()) {
                    plain.add(gen.next());
                }
                assertEquals(0, gen.escalations());
            }
            assertTrue(plain.stream().anyMatch(t -> t.gear() != Gear.HIGH && t.entropy() > high),
                    "the comparison run has uncertain tokens below HIGH");
        }
    }

    @Test
    void pinnedRoutingNeverEscalates() {
        try (LlamaModel m = LlamaModel.load(TestModels.stories260K(), Kernels.preferred(), ALL)) {
            try (Generation gen = new Generator(m).start(GenerationRequest.builder("Once upon a time").maxTokens(30)
                    .routing(RoutingOptions.builder().pinned(Gear.LOW).escalate(true).build()).build())) {
                while (gen.hasNext()) {
                    assertEquals(Gear.LOW, gen.next().gear());
                }
                assertEquals(0, gen.escalations());
            }
        }
    }
}
