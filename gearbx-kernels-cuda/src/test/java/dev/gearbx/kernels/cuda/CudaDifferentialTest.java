package dev.gearbx.kernels.cuda;

import dev.gearbx.kernels.cuda.StepOptions.NestedKernels;
import dev.gearbx.kernels.cuda.StepOptions.PersistentLow;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.gear.GearConfig;
import dev.gearbx.engine.gear.ManagedScope;
import dev.gearbx.engine.generate.GenerationRequest;
import dev.gearbx.engine.generate.GenerationResult;
import dev.gearbx.engine.generate.Generator;
import dev.gearbx.engine.gguf.GgmlType;
import dev.gearbx.engine.model.LlamaModel;
import dev.gearbx.engine.model.LlamaState;
import dev.gearbx.engine.model.ModelShape;
import dev.gearbx.engine.model.SyntheticModel;
import dev.gearbx.engine.routing.Entropy;
import dev.gearbx.engine.routing.RoutingOptions;
import dev.gearbx.engine.sampling.SamplingParams;
import dev.gearbx.engine.tensor.Kernels;
import dev.gearbx.reactive.spi.LoadedModel;
import dev.gearbx.reactive.spi.Sequence;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The device decode step against the CPU engine, gear by gear, on stories260K (F32) and on synthetic F16 and BF16
 * models: the same greedy tokens, and logits within {@link #LOGIT_TOLERANCE} (relative L2 error per step; both
 * sides read the same quantized codes and accumulate in float32, so only summation order differs). Needs a CUDA
 * GPU: skipped, with the provider's reason, where there is none.
 */
class CudaDifferentialTest {
    /** Largest relative L2 error of a step's logits allowed at any gear. */
    static final double LOGIT_TOLERANCE = 1e-4;
    /** Largest absolute difference of a step's entropy in bits. */
    static final double ENTROPY_TOLERANCE = 1e-3;

    private static CudaDevice device;

    @BeforeAll
    static void open() {
        device = GpuTests.openOrSkip();
    }

    @AfterAll
    static void close() {
        if (device != null) {
            device.close();
        }
    }

    @Test
    void dependentLaunchIsOnWhereTheCardHasIt() {
        boolean hopper = Integer.parseInt(device.computeCapability().split("\\.")[0]) >= 9;
        System.out.println("CUDA kernels " + device.ptxResource() + ", dependent launch "
                + (device.dependentLaunch() ? "on" : "off: " + device.dependentLaunchAbsence()));
        assertEquals(hopper, device.dependentLaunch(), device.dependentLaunchAbsence());
    }

    static Path stories260K() {
        Path p = Path.of(System.getProperty("gearbx.models", "../shared/models")).resolve("stories260K.gguf");
        if (!Files.isRegularFile(p)) {
            throw new IllegalStateException("test model " + p.toAbsolutePath() + " is missing; set -Dgearbx.models");
        }
        return p;
    }

    static GearConfig allManaged() {
        return GearConfig.builder().scope(ManagedScope.ALL).eager(true).build();
    }

    @Test
    void stories260KEveryGear() {
        // its FFN rows (172 weights) are not a multiple of 32: LOW takes the per-kernel program, not the persistent one
        compare(stories260K(), "Once upon a time", 48, false, ALL_OPTIONS);
    }

    @Test
    void syntheticF16EveryGear(@TempDir Path dir) {
        Path file = dir.resolve("f16.gguf");
        SyntheticModel.write(file, new ModelShape("diff-f16", 256, 2, 8, 4, 512, 1024, 128), GgmlType.F16, 11, 0.08f);
        compare(file, "a b c", 24, true, ALL_OPTIONS);
    }

    @Test
    void syntheticWithAttentionBiasesEveryGear(@TempDir Path dir) {
        Path file = dir.resolve("bias.gguf");
        SyntheticModel.write(file, new ModelShape("diff-bias", 256, 2, 8, 2, 512, 1024, 128), GgmlType.F16, 13, 0.08f,
                true);
        compare(file, "a b c", 24, true, ALL_OPTIONS);
    }

    @Test
    void syntheticBf16EveryGear(@TempDir Path dir) {
        Path file = dir.resolve("bf16.gguf");
        SyntheticModel.write(file, new ModelShape("diff-bf16", 256, 2, 8, 2, 768, 1024, 128), GgmlType.BF16, 12, 0.08f);
        compare(file, "a b c", 24, true, ALL_OPTIONS);
    }

    /**
     * Attention's two ways of reading a row: head width 6 (not a multiple of 4: scalars, 6 of a warp's lanes) and 256
     * (two float4 chunks per lane), over more positions than one round of the kernel's warps takes.
     */
    @Test
    void syntheticOddAndWideHeadsEveryGear(@TempDir Path dir) {
        Path odd = dir.resolve("head6.gguf");
        SyntheticModel.write(odd, new ModelShape("diff-head6", 96, 2, 16, 8, 256, 1024, 128), GgmlType.F16, 14, 0.08f);
        compare(odd, "a b c", 40, true, ALL_OPTIONS);
        Path wide = dir.resolve("head256.gguf");
        SyntheticModel.write(wide, new ModelShape("diff-head256", 512, 1, 2, 1, 512, 1024, 128), GgmlType.F16, 15,
                0.08f);
        compare(wide, "a b c", 40, true, ALL_OPTIONS);
    }

    /**
     * Attention over 1,100 positions, kernel by kernel and in the persistent kernel: each warp's online softmax
     * rescales its running sums as the maximum grows over ~70 positions before the warps are combined.
     */
    @Test
    void syntheticLongContextLow(@TempDir Path dir) {
        Path file = dir.resolve("context.gguf");
        SyntheticModel.write(file, new ModelShape("diff-context", 128, 1, 4, 2, 256, 1024, 2048), GgmlType.F16, 17,
                0.08f);
        try (LlamaModel cpu = LlamaModel.load(file, Kernels.preferred(), allManaged())) {
            device.bind();
            try (DeviceWeights weights = DeviceWeights.upload(device, cpu)) {
                int[] prompt = cpu.tokenizer().encode("a b c");
                for (StepOptions o : new StepOptions[] {StepOptions.DEFAULT,
                        StepOptions.DEFAULT.withPersistentLow(PersistentLow.R4D4)}) {
                    compareGear(cpu, weights, prompt, 1100, Gear.LOW, o, "context.gguf", true);
                }
            }
        }
    }

    /**
     * The persistent LOW kernel on rows longer than one warp's 1,024 weights (q/k/v and o: 2 warps per row, the second
     * half idle; down: 3 warps, the third half idle; gate/up: 1), in each of its variants, with plain launches and
     * without dependent launch; and the default (kernel by kernel) on the same model.
     */
    @Test
    void syntheticLongRowsPersistentLow(@TempDir Path dir) {
        Path file = dir.resolve("long.gguf");
        SyntheticModel.write(file, new ModelShape("diff-long", 1280, 2, 10, 2, 2560, 1024, 64), GgmlType.F16, 16, 0.05f);
        compare(file, "a b c", 20, true, new StepOptions[] {StepOptions.DEFAULT.withPersistentLow(PersistentLow.R4D4),
                StepOptions.DEFAULT.withPersistentLow(PersistentLow.R4D2),
                StepOptions.DEFAULT.withPersistentLow(PersistentLow.R8D2),
                new StepOptions(false, true, 0).withPersistentLow(PersistentLow.R4D4),
                new StepOptions(true, false, 0, true, false).withPersistentLow(PersistentLow.R4D4),
                StepOptions.DEFAULT});
    }

    /**
     * Plain launches, natural order, one row per warp; then each option on; graphs with the exact LOW decoding; graphs
     * without dependent launch (for LOW: the persistent kernel through cuLaunchCooperativeKernel); RMSNorm kernels
     * instead of fused norms (plain launches with warp-per-row nested GEMVs; graphs); warp-per-row nested GEMVs;
     * natural order; each sliced kernel forced on every nested matrix (these models are below the sizes where the
     * shape rule picks them; natural order and plain launches for the first); the persistent LOW kernel (two of its
     * variants, natural order without dependent launch, plain launches); the default (kernels by shape, fused norms,
     * dependent launch on sm_90+).
     */
    private static final StepOptions[] ALL_OPTIONS = {new StepOptions(false, false, 1),
            new StepOptions(false, true, 1), new StepOptions(false, true, 2),
            new StepOptions(false, true, 4), new StepOptions(true, true, 0, false),
            new StepOptions(true, true, 0, true, false),
            new StepOptions(false, true, 0, true, true, false, NestedKernels.WARP_PER_ROW),
            StepOptions.DEFAULT.withFusedNorm(false), StepOptions.DEFAULT.withNested(NestedKernels.WARP_PER_ROW),
            new StepOptions(true, false, 0),
            new StepOptions(false, false, 0, true, true, true, NestedKernels.SLICED_4X1),
            StepOptions.DEFAULT.withNested(NestedKernels.SLICED_2X4),
            StepOptions.DEFAULT.withNested(NestedKernels.SLICED_4X2).withFusedNorm(false),
            StepOptions.DEFAULT.withNested(NestedKernels.SLICED_ASYNC_2X8),
            new StepOptions(false, false, 0, true, true, true, NestedKernels.SLICED_ASYNC_2X8),
            StepOptions.DEFAULT.withNested(NestedKernels.SLICED_ASYNC_4X2),
            StepOptions.DEFAULT.withNested(NestedKernels.BY_SHAPE_RING),
            StepOptions.DEFAULT.withPersistentLow(PersistentLow.R4D4),
            StepOptions.DEFAULT.withPersistentLow(PersistentLow.R8D2),
            new StepOptions(true, false, 0, true, false).withPersistentLow(PersistentLow.R4D4),
            new StepOptions(false, true, 0).withPersistentLow(PersistentLow.R4D4), StepOptions.DEFAULT};

    /**
     * Prompt, then greedy steps, at each gear on both sides with each of {@code options}; asserts tokens, logits and
     * entropies, and whether LOW ran the persistent kernel where the options ask for it ({@code persistent}).
     */
    private static void compare(Path file, String prompt, int steps, boolean persistent, StepOptions[] options) {
        try (LlamaModel cpu = LlamaModel.load(file, Kernels.preferred(), allManaged())) {
            device.bind();
            try (DeviceWeights weights = DeviceWeights.upload(device, cpu)) {
                int[] promptTokens = cpu.tokenizer().encode(prompt);
                for (Gear gear : Gear.values()) {
                    for (StepOptions o : options) {
                        compareGear(cpu, weights, promptTokens, steps, gear, o, file.getFileName().toString(),
                                persistent);
                    }
                }
            }
        }
    }

    private static void compareGear(LlamaModel cpu, DeviceWeights weights, int[] prompt, int steps, Gear gear,
            StepOptions options, String name, boolean persistent) {
        int capacity = prompt.length + steps;
        LlamaState state = cpu.newState(capacity);
        state.shift(gear);
        double worst = 0;
        double worstEntropy = 0;
        List<Integer> cpuTokens = new ArrayList<>();
        List<Integer> gpuTokens = new ArrayList<>();
        try (DeviceDecoder d = new DeviceDecoder(device, weights, capacity, options)) {
            if (options.wantsPersistentLow()) {
                assertEquals(persistent, d.persistentLow(), name + " " + options + ": persistent LOW kernel used? ("
                        + d.persistentLowAbsenceReason() + ")");
            }
            int token = prompt[0];
            for (int i = 0; i < capacity - 1; i++) {
                boolean inPrompt = i < prompt.length;
                if (inPrompt) {
                    token = prompt[i];
                    d.setToken(token);
                }
                float[] expected = cpu.forward(state, token);
                d.step(gear, true);
                float[] actual = d.logits();
                worst = Math.max(worst, relativeError(actual, expected));
                DeviceDecoder.Results r = d.results(i, i + 1);
                double[] unused = new double[1];
                worstEntropy = Math.max(worstEntropy,
                        Math.abs(r.entropies()[0] - Entropy.bits(expected, expected.length, unused)));
                int next = argmax(expected);
                if (i >= prompt.length - 1) {
                    cpuTokens.add(next);
                    gpuTokens.add(r.tokens()[0]);
                }
                token = next;
            }
        }
        System.out.printf("%s %s %s: %d greedy tokens, max relative logit error %.2e, max entropy error %.2e bits%n",
                name, gear, options, cpuTokens.size(), worst, worstEntropy);
        assertEquals(cpuTokens, gpuTokens, name + " " + gear + " " + options + ": greedy tokens differ");
        assertTrue(worst <= LOGIT_TOLERANCE, name + " " + gear + " " + options + ": relative logit error " + worst);
        assertTrue(worstEntropy <= ENTROPY_TOLERANCE, name + " " + gear + ": entropy error " + worstEntropy);
    }

    @Test
    void sequenceThroughTheSpiMatchesTheCpuGeneration() {
        GearConfig gears = allManaged();
        for (RoutingOptions routing : List.of(RoutingOptions.pinned(Gear.HIGH), RoutingOptions.pinned(Gear.LOW),
                RoutingOptions.builder().deferredSteps(4).build())) {
            GenerationRequest request = GenerationRequest.builder("Once upon a time").maxTokens(40)
                    .sampling(SamplingParams.greedy()).routing(routing).build();
            GenerationResult expected;
            try (LlamaModel cpu = LlamaModel.load(stories260K(), Kernels.preferred(), gears)) {
                expected = new Generator(cpu).generate(request);
            }
            List<Integer> tokens = new ArrayList<>();
            try (LoadedModel gpu = new CudaBackendProvider().create().load(stories260K(), gears);
                    Sequence s = gpu.start(request)) {
                while (s.hasNext()) {
                    tokens.add(s.next().tokenId());
                }
                GenerationResult actual = s.result();
                System.out.printf("sequence %s: %s | cpu gears %s, cuda gears %s%n", routing.pinned() == null
                        ? "routed k=4" : "pinned " + routing.pinned(), actual.text().strip(), expected.gearSteps(),
                        actual.gearSteps());
                assertArrayEquals(expected.tokenIds(), actual.tokenIds(), "tokens for " + routing);
                assertEquals(expected.gearSteps(), actual.gearSteps(), "gear steps for " + routing);
            }
        }
    }

    @Test
    void sampledSequenceOnTheDeviceMatchesTheCpuGeneration() {
        GearConfig gears = allManaged();
        List<SamplingParams> settings = List.of(
                new SamplingParams(0.8f, 40, 0.95f, 0.05f, 1f, 64, 7L),
                new SamplingParams(1.3f, 256, 1f, 0f, 1f, 64, 11L),
                new SamplingParams(0.5f, 3, 0.6f, 0f, 1f, 64, 12345L));
        for (SamplingParams sampling : settings) {
            for (RoutingOptions routing : List.of(RoutingOptions.pinned(Gear.HIGH),
                    RoutingOptions.builder().deferredSteps(4).build())) {
                GenerationRequest request = GenerationRequest.builder("Once upon a time").maxTokens(40)
                        .sampling(sampling).routing(routing).build();
                GenerationResult expected;
                try (LlamaModel cpu = LlamaModel.load(stories260K(), Kernels.preferred(), gears)) {
                    expected = new Generator(cpu).generate(request);
                }
                try (LoadedModel gpu = new CudaBackendProvider().create().load(stories260K(), gears);
                        Sequence s = gpu.start(request)) {
                    assertTrue(((CudaSequence) s).samplesOnDevice(), "top-k " + sampling.topK() + " samples on the device");
                    while (s.hasNext()) {
                        s.next();
                    }
                    GenerationResult actual = s.result();
                    System.out.printf("sampled %s, %s: %s%n", sampling, routing.pinned() == null ? "routed k=4"
                            : "pinned " + routing.pinned(), actual.text().strip());
                    assertArrayEquals(expected.tokenIds(), actual.tokenIds(), "tokens for " + sampling + ", " + routing);
                }
            }
        }
    }

    /** Escalation (an uncertain step rerun at HIGH) gives the CPU's tokens, gear steps and escalation count. */
    @Test
    void escalationMatchesTheCpuGeneration() {
        GearConfig gears = allManaged();
        for (SamplingParams sampling : List.of(SamplingParams.greedy(),
                new SamplingParams(0.8f, 40, 0.95f, 0.05f, 1f, 64, 5L),
                new SamplingParams(0.8f, 40, 0.95f, 0.05f, 1.1f, 64, 5L))) {
            GenerationRequest request = GenerationRequest.builder("Once upon a time").maxTokens(40).sampling(sampling)
                    .routing(RoutingOptions.builder().deferredSteps(4).escalate(true).build()).build();
            GenerationResult expected;
            long cpuEscalations;
            try (LlamaModel cpu = LlamaModel.load(stories260K(), Kernels.preferred(), gears);
                    dev.gearbx.engine.generate.Generation g = new Generator(cpu).start(request)) {
                while (g.hasNext()) {
                    g.next();
                }
                expected = g.result();
                cpuEscalations = g.escalations();
            }
            try (LoadedModel gpu = new CudaBackendProvider().create().load(stories260K(), gears);
                    Sequence s = gpu.start(request)) {
                while (s.hasNext()) {
                    s.next();
                }
                GenerationResult actual = s.result();
                long gpuEscalations = ((CudaSequence) s).escalations();
                System.out.printf("escalation, %s: cpu %d escalations %s, cuda %d escalations %s%n", sampling,
                        cpuEscalations, expected.gearSteps(), gpuEscalations, actual.gearSteps());
                assertArrayEquals(expected.tokenIds(), actual.tokenIds(), "tokens, " + sampling);
                assertEquals(expected.gearSteps(), actual.gearSteps(), "gear steps, " + sampling);
                assertEquals(cpuEscalations, gpuEscalations, "escalations, " + sampling);
            }
        }
    }

    /** NaN logits in every gear (stories260K with a NaN output norm): one rerun one gear up, then the same typed error. */
    @Test
    void nonFiniteLogitsRetryOneGearUpThenFailAsOnTheCpu(@TempDir Path dir) {
        Path broken = dir.resolve("nan.gguf");
        try (dev.gearbx.engine.gguf.GgufFile g = dev.gearbx.engine.gguf.GgufFile.open(stories260K())) {
            dev.gearbx.engine.gguf.GgufWriter w = new dev.gearbx.engine.gguf.GgufWriter().putAll(g.metadata());
            for (dev.gearbx.engine.gguf.GgufTensorInfo t : g.tensors()) {
                if (t.name().equals("output_norm.weight")) {
                    float[] nan = new float[(int) t.elementCount()];
                    java.util.Arrays.fill(nan, Float.NaN);
                    w.tensor(t.name(), GgmlType.F32, t.shape(), nan);
                } else {
                    w.tensor(t.name(), t.type(), t.shape(), g.tensorData(t));
                }
            }
            w.write(broken);
        }
        GearConfig gears = allManaged();
        record Case(String name, RoutingOptions routing, SamplingParams sampling) {}
        for (Case c : List.of(new Case("pinned LOW, device sampling", RoutingOptions.pinned(Gear.LOW), SamplingParams.greedy()),
                new Case("routed k=4, device sampling", RoutingOptions.builder().deferredSteps(4).build(),
                        SamplingParams.greedy()),
                new Case("pinned MID, host sampling", RoutingOptions.pinned(Gear.MID),
                        new SamplingParams(0.8f, 40, 0.95f, 0.05f, 1.1f, 64, 3L)))) {
            GenerationRequest request = GenerationRequest.builder("Once upon a time").maxTokens(8)
                    .sampling(c.sampling()).routing(c.routing()).build();
            dev.gearbx.engine.generate.NumericalInstabilityException cpuError;
            try (LlamaModel cpu = LlamaModel.load(broken, Kernels.preferred(), gears)) {
                cpuError = org.junit.jupiter.api.Assertions.assertThrows(
                        dev.gearbx.engine.generate.NumericalInstabilityException.class,
                        () -> new Generator(cpu).generate(request));
            }
            try (LoadedModel gpu = new CudaBackendProvider().create().load(broken, gears);
                    Sequence s = gpu.start(request)) {
                dev.gearbx.engine.generate.NumericalInstabilityException gpuError =
                        org.junit.jupiter.api.Assertions.assertThrows(
                                dev.gearbx.engine.generate.NumericalInstabilityException.class, () -> {
                                    while (s.hasNext()) {
                                        s.next();
                                    }
                                });
                System.out.println("non-finite logits, " + c.name() + ": cpu \"" + cpuError.getMessage() + "\", cuda \""
                        + gpuError.getMessage() + "\"");
                assertEquals(cpuError.gear(), gpuError.gear(), c.name() + ": gear of the failed rerun");
                assertEquals(cpuError.position(), gpuError.position(), c.name() + ": position");
            }
        }
    }

    static double relativeError(float[] actual, float[] expected) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < expected.length; i++) {
            if (!Float.isFinite(actual[i])) {
                return Double.POSITIVE_INFINITY;
            }
            double d = actual[i] - expected[i];
            num += d * d;
            den += (double) expected[i] * expected[i];
        }
        return Math.sqrt(num / den);
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }
}
