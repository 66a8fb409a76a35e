package dev.gearbx.engine.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.gear.GearConfig;
import dev.gearbx.engine.gear.ManagedScope;
import dev.gearbx.engine.gguf.GgmlType;
import dev.gearbx.engine.gguf.GgufFile;
import dev.gearbx.engine.gguf.GgufTensorInfo;
import dev.gearbx.engine.gguf.GgufWriter;
import dev.gearbx.engine.model.LlamaModel;
import dev.gearbx.engine.model.ModelShape;
import dev.gearbx.engine.model.SyntheticModel;
import dev.gearbx.engine.routing.RoutingOptions;
import dev.gearbx.engine.routing.ThresholdPolicy;
import dev.gearbx.engine.sampling.SamplingParams;
import dev.gearbx.engine.tensor.Kernels;
import dev.gearbx.engine.testing.TestModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The engine's routed generation loop on real and synthetic models. */
class RoutedGenerationTest {
    static final GearConfig ALL = GearConfig.builder().scope(ManagedScope.ALL).build();

    @TempDir
    Path dir;

    @Test
    void telemetryIsConsistent() {
        try (LlamaModel m = LlamaModel.load(TestModels.stories260K(), Kernels.preferred(), ALL)) {
            List<GeneratedToken> tokens = new ArrayList<>();
            GenerationResult r = new Generator(m).generate(GenerationRequest.builder("Once upon a time").maxTokens(60).build(),
                    t -> tokens.add(t));
            assertEquals(tokens.size(), r.tokenIds().length);
            double shareSum = r.gearShares().values().stream().mapToDouble(Double::doubleValue).sum();
            assertEquals(1.0, shareSum, 1e-9);
            int shifts = 0;
            for (int i = 0; i < tokens.size(); i++) {
                GeneratedToken t = tokens.get(i);
                assertEquals(i, t.index());
                assertTrue(t.entropy() >= 0 && t.entropy() <= 9.0001, "entropy within [0, log2 512]: " + t.entropy());
                assertTrue(t.logProbability() <= 0);
                boolean changed = i > 0 && tokens.get(i - 1).gear() != t.gear();
                assertEquals(changed, t.shifted(), "shifted flag of token " + i);
                shifts += changed ? 1 : 0;
            }
            assertTrue(r.shifts() >= shifts, "router shifts " + r.shifts() + " vs observed " + shifts);
            assertTrue(r.thresholds() != null);
        }
    }

    @Test
    void fallbackNeverFiresOnStories260KAtFullPrecision() {
        try (LlamaModel m = LlamaModel.load(TestModels.stories260K(), Kernels.preferred(), GearConfig.NONE)) {
            for (String prompt : new String[] {"Once upon a time", "Tom and Sue", "The little dog", "One day"}) {
                for (long seed = 1; seed <= 3; seed++) {
                    try (Generation gen = new Generator(m).start(GenerationRequest.builder(prompt).maxTokens(100)
                            .sampling(SamplingParams.builder().temperature(1f).seed(seed).build())
                            .routing(RoutingOptions.builder().initialGear(Gear.LOW).build()).build())) {
                        while (gen.hasNext()) {
                            gen.next();
                            assertTrue(gen.router().monitor().catastrophicRun() < 2, prompt + " seed " + seed);
                        }
                        assertEquals(0, ((ThresholdPolicy) gen.router().policy()).fallbacks());
                    }
                }
            }
        }
    }

    @Test
    void fallbackFiresOnANearUniformRandomModelAndLiftsTheGear() {
        Path p = dir.resolve("noise.gguf");
        // tiny weights: every logit is nearly equal, entropy is nearly log2(V)
        SyntheticModel.write(p, new ModelShape("noise", 64, 2, 4, 2, 128, 2000, 256), GgmlType.F32, 3, 0.001f);
        try (LlamaModel m = LlamaModel.load(p, Kernels.preferred(), ALL);
                Generation g = new Generator(m).start(GenerationRequest.builder("hello").maxTokens(12)
                        .stopAtEndOfGeneration(false)
                        .routing(RoutingOptions.builder().initialGear(Gear.LOW).minDuration(1000).build()).build())) {
            List<Gear> gears = new ArrayList<>();
            while (g.hasNext()) {
                gears.add(g.next().gear());
            }
            ThresholdPolicy policy = (ThresholdPolicy) g.router().policy();
            assertTrue(policy.fallbacks() >= 1, "fallback fired");
            assertEquals(Gear.LOW, gears.get(0));
            assertEquals(Gear.LOW, gears.get(1));
            assertEquals(Gear.MID, gears.get(2), "after exactly two catastrophic tokens the third step runs at MID: " + gears);
        }
    }

    @Test
    void withoutTheFallbackTheGearStaysLow() {
        Path p = dir.resolve("noise.gguf");
        SyntheticModel.write(p, new ModelShape("noise", 64, 2, 4, 2, 128, 2000, 256), GgmlType.F32, 3, 0.001f);
        try (LlamaModel m = LlamaModel.load(p, Kernels.preferred(), ALL)) {
            GenerationResult r = new Generator(m).generate(GenerationRequest.builder("hello").maxTokens(12)
                    .stopAtEndOfGeneration(false)
                    .routing(RoutingOptions.builder().initialGear(Gear.LOW).minDuration(1000).catastrophicRun(0).build())
                    .build());
            assertEquals(java.util.Map.of(Gear.LOW, 1.0), r.gearShares());
        }
    }

    @Test
    void deferredModeDecidesOnlyAtBatchBoundaries() {
        try (LlamaModel m = LlamaModel.load(TestModels.stories260K(), Kernels.preferred(), ALL)) {
            List<GeneratedToken> tokens = new ArrayList<>();
            new Generator(m).generate(GenerationRequest.builder("Once upon a time").maxTokens(64)
                    .routing(RoutingOptions.builder().deferredSteps(4).minDuration(1).build()).build(), tokens::add);
            for (GeneratedToken t : tokens) {
                if (t.shifted()) {
                    assertEquals(0, t.index() % 4, "a shift takes effect only after a batch of 4: token " + t.index());
                }
            }
        }
    }

    @Test
    void calibrationAndPinningAreReported() {
        try (LlamaModel m = LlamaModel.load(TestModels.stories260K(), Kernels.preferred(), ALL)) {
            GenerationResult pinned = new Generator(m).generate(GenerationRequest.builder("Once upon a time").maxTokens(10)
                    .routing(RoutingOptions.pinned(Gear.MID)).build());
            assertEquals(java.util.Map.of(Gear.MID, 1.0), pinned.gearShares());
            assertEquals(null, pinned.thresholds());
            GenerationResult calibrated = new Generator(m).generate(GenerationRequest.builder(
                    "Once upon a time there was a little girl who liked to play in the park with her dog").maxTokens(10)
                    .routing(RoutingOptions.builder().calibrate(true).build()).build());
            assertTrue(calibrated.thresholds().high() <= 0.18 * 9 + 1e-6, "capped: " + calibrated.thresholds());
        }
    }

    @Test
    void batchRunsEachPromptWithItsOwnRoutingState() {
        try (LlamaModel m = LlamaModel.load(TestModels.stories260K(), Kernels.preferred(), ALL)) {
            Generator g = new Generator(m);
            GenerationRequest settings = GenerationRequest.builder("").maxTokens(20).build();
            List<String> prompts = List.of("Once upon a time", "Tom and Sue", "Once upon a time");
            List<GenerationResult> batch = g.generateBatch(prompts, settings);
            assertEquals(3, batch.size());
            for (int i = 0; i < prompts.size(); i++) {
                GenerationResult alone = g.generate(settings.toBuilder().prompt(prompts.get(i)).build());
                assertEquals(alone.text(), batch.get(i).text(), "prompt " + i + " as if run alone");
                assertEquals(alone.gearSteps(), batch.get(i).gearSteps());
            }
        }
    }

    @Test
    void nonFiniteLogitsInEveryGearAreATypedError() {
        Path src = TestModels.stories260K();
        Path broken = dir.resolve("nan.gguf");
        try (GgufFile g = GgufFile.open(src)) {
            GgufWriter w = new GgufWriter().putAll(g.metadata());
            for (GgufTensorInfo t : g.tensors()) {
                if (t.name().equals("output_norm.weight")) {
                    float[] nan = new float[64];
                    java.util.Arrays.fill(nan, Float.NaN);
                    w.tensor(t.name(), GgmlType.F32, t.shape(), nan);
                } else {
                    w.tensor(t.name(), t.type(), t.shape(), g.tensorData(t));
                }
            }
            w.write(broken);
        }
        try (LlamaModel m = LlamaModel.load(broken)) {
            NumericalInstabilityException e = assertThrows(NumericalInstabilityException.class, () -> new Generator(m)
                    .generate(GenerationRequest.builder("Once").maxTokens(3).routing(RoutingOptions.pinned(Gear.MID)).build()));
            assertEquals(Gear.HIGH, e.gear(), "retried one gear up before failing");
        }
    }
}
