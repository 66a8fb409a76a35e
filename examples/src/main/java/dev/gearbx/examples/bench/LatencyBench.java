package dev.gearbx.examples.bench;

import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.gear.GearConfig;
import dev.gearbx.engine.gear.Linear;
import dev.gearbx.engine.gear.ManagedScope;
import dev.gearbx.engine.generate.GeneratedToken;
import dev.gearbx.engine.generate.Generation;
import dev.gearbx.engine.generate.GenerationRequest;
import dev.gearbx.engine.generate.GenerationResult;
import dev.gearbx.engine.generate.Generator;
import dev.gearbx.engine.model.LlamaModel;
import dev.gearbx.engine.model.LlamaState;
import dev.gearbx.engine.routing.EntropyMonitor;
import dev.gearbx.engine.routing.ModelFamily;
import dev.gearbx.engine.routing.ThresholdPolicy;
import dev.gearbx.engine.tensor.Kernels;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Latencies: a gear shift, an entropy monitor update at given vocabulary sizes, the routing work of
 * a step as a share of the step, time to first token and per-step latency percentiles for each gear
 * variant. Timed with {@code System.nanoTime} over many repetitions after a warm-up (JMH's
 * {@code GearShiftBenchmark} and {@code EntropyMonitorBenchmark} measure the first two more
 * carefully).
 */
@Command(name = "latency", mixinStandardHelpOptions = true,
        description = "Gear shift, monitor update, routing overhead, time to first token and step latency percentiles.")
final class LatencyBench implements Callable<Integer> {
    static final double SHIFT_TARGET_NANOS = 1000;
    static final double MONITOR_TARGET_MICROS = 50;
    /** The monitor target is stated for a vocabulary of about 128k (Llama 3: 128,256). */
    static final int MONITOR_TARGET_VOCABULARY = 128_000;
    /** Untimed rounds before the timed ones of the shift and monitor timings. */
    static final int WARM_UP_ROUNDS = 2;
    /** Receives a value computed from every timed lookup. */
    static volatile long blackhole;

    @Spec
    @SuppressWarnings("NullAway.Init")
    CommandSpec spec;

    @Mixin
    BenchOptions bench = new BenchOptions();

    @Option(names = "--variants", split = ",", defaultValue = "HIGH,MID,LOW,ROUTED",
            description = "Pinned gears GEAR[:FORMAT] and/or ROUTED (default: ${DEFAULT-VALUE}).")
    List<String> variants = List.of();

    @Option(names = "--prompt", defaultValue = "Once upon a time", description = "Prompt (default: ${DEFAULT-VALUE}).")
    String prompt = "Once upon a time";

    @Option(names = "--tokens", description = "Tokens generated per run (default: 64; 8 with --unit).")
    @Nullable Integer tokens;

    @Option(names = "--runs", description = "Timed runs per variant after one warm-up run (default: 5; 2 with --unit).")
    @Nullable Integer runs;

    @Option(names = "--vocab", split = ",", defaultValue = "32000,128256",
            description = "Vocabulary sizes of the monitor update timing (default: ${DEFAULT-VALUE}).")
    List<Integer> vocabularies = List.of();

    @Option(names = "--manage", defaultValue = "ALL", description = "Managed layers: ATTENTION, MLP, ALL (default: ${DEFAULT-VALUE}).")
    ManagedScope scope = ManagedScope.ALL;

    @Option(names = "--group-size", defaultValue = "32", description = "Weights per scale (default: ${DEFAULT-VALUE}).")
    int groupSize = 32;

    /** Nanoseconds of one shift plus the lookup of a block's linear layers at the new gear. */
    record Shift(Stats nanos, long iterationsPerRound, double targetNanos, boolean meetsTarget) {}

    /** Microseconds of one monitor update (entropy of V logits + window), and with the policy's decision. */
    record Monitor(int vocabularySize, Stats updateMicros, Stats updateAndPolicyMicros, @Nullable Double targetMicros,
            @Nullable Boolean meetsTarget) {}

    /** One variant's generation latencies. */
    record Variant(String variant, int runs, int tokensPerRun, Stats timeToFirstTokenMillis, Stats stepMicros,
            Stats tokensPerSecond, double routingFractionOfStep, Map<Gear, Double> gearShares) {}

    /** The results section of the JSON. */
    record Results(String prompt, int tokensPerRun, int runs, String managed, Shift gearShift, List<Monitor> monitor,
            int modelVocabularySize, double routingMicrosPerStep, List<Variant> variants) {}

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        int n = BenchOptions.positive("--tokens", tokens != null ? tokens : bench.unit ? 8 : 64);
        int r = BenchOptions.positive("--runs", runs != null ? runs : bench.unit ? 2 : 5);
        int rounds = bench.unit ? 3 : 7;
        Path path = bench.modelFile();
        List<BenchVariant> vs = variants.stream().map(BenchVariant::parse).toList();
        List<Monitor> monitors = new ArrayList<>();
        for (int v : vocabularies) {
            if (v < 2) {
                throw new IllegalArgumentException("--vocab sizes must be at least 2, got " + v);
            }
            monitors.add(monitor(v, rounds, bench.unit ? 20 : 400));
        }
        List<Variant> results = new ArrayList<>();
        Shift shift;
        double routeMicros;
        int vocab;
        try (Progress progress = bench.progress("latency", (long) vs.size() * (r + 1) + 1)) {
            try (LlamaModel m = LlamaModel.load(path, Kernels.preferred(),
                    GearConfig.builder().scope(scope).groupSize(groupSize).build())) {
                new BenchVariant(null).prepare(m);
                shift = shift(m, rounds, bench.unit ? 20_000 : 1_000_000);
                vocab = m.config().vocabularySize();
                routeMicros = monitor(vocab, rounds, bench.unit ? 200 : 2000).updateAndPolicyMicros().median();
            }
            progress.step();
            for (BenchVariant v : vs) {
                results.add(generate(path, v, n, r, routeMicros, progress));
            }
        }
        Results res = new Results(prompt, n, r, scope.name(), shift, monitors, vocab, routeMicros, results);

        out.printf("model %s (%s mode), prompt \"%s\", %d tokens x %d runs per variant (managed: %s)%n", path.getFileName(),
                bench.mode(), prompt, n, r, scope);
        out.printf("gear shift + block lookup: %.1f ns median (%.1f-%.1f), target < %.0f ns: %s%n", shift.nanos().median(),
                shift.nanos().min(), shift.nanos().max(), SHIFT_TARGET_NANOS, shift.meetsTarget() ? "met" : "not met");
        for (Monitor mo : monitors) {
            out.printf("monitor update, V = %,d: %.1f us median (%.1f-%.1f); with policy %.1f us%s%n", mo.vocabularySize(),
                    mo.updateMicros().median(), mo.updateMicros().min(), mo.updateMicros().max(), mo.updateAndPolicyMicros().median(),
                    mo.meetsTarget() == null ? "" : String.format(", target < %.0f us: %s", MONITOR_TARGET_MICROS,
                            mo.meetsTarget() ? "met" : "not met"));
        }
        out.printf("routing per step at this model's V = %,d: %.2f us%n", vocab, routeMicros);
        out.printf("%-16s %10s %10s %10s %10s %10s %10s %8s  %s%n", "variant", "TTFT ms", "step p50", "p90", "p99",
                "max (us)", "tok/s", "route %", "gears");
        for (Variant v : results) {
            out.printf("%-16s %10.2f %10.1f %10.1f %10.1f %10.1f %10.1f %8.2f  %s%n", v.variant(),
                    v.timeToFirstTokenMillis().median(), v.stepMicros().median(), v.stepMicros().p90(), v.stepMicros().p99(),
                    v.stepMicros().max(), v.tokensPerSecond().median(), 100 * v.routingFractionOfStep(),
                    EntropyBench.format(v.gearShares()));
        }
        out.flush();
        BenchReport.of("latency", bench, path.getFileName().toString(), spec.commandLine().getParseResult().originalArgs(), res)
                .write(bench.json);
        Charts.save(chart(res, path.getFileName().toString()), bench.chartFile());
        return 0;
    }

    private Variant generate(Path path, BenchVariant v, int n, int r, double routeMicros, Progress progress) {
        try (LlamaModel m = LlamaModel.load(path, Kernels.preferred(), v.config(scope, groupSize))) {
            v.prepare(m);
            Generator g = new Generator(m);
            GenerationRequest request = GenerationRequest.builder(prompt).maxTokens(n).stopAtEndOfGeneration(false)
                    .routing(v.routing()).build();
            // warm-up: as many untimed runs as timed ones, so that C2 has compiled this variant's kernels
            for (int i = 0; i < (bench.unit ? 1 : r); i++) {
                run(g, request, new ArrayList<>());
            }
            progress.step();
            double[] ttft = new double[r];
            double[] tps = new double[r];
            List<GeneratedToken> all = new ArrayList<>();
            for (int i = 0; i < r; i++) {
                GenerationResult res = run(g, request, all);
                ttft[i] = res.timeToFirstTokenNanos() / 1e6;
                tps[i] = res.tokensPerSecond();
                progress.step();
            }
            Stats step = Stats.of(all.stream().mapToLong(GeneratedToken::stepNanos).toArray()).scaled(1e-3);
            Map<Gear, Double> shares = new EnumMap<>(Gear.class);
            for (GeneratedToken t : all) {
                shares.merge(t.gear(), 1.0 / all.size(), Double::sum);
            }
            return new Variant(v.label(), r, n, Stats.of(ttft), step, Stats.of(tps), routeMicros / step.median(), shares);
        }
    }

    private static GenerationResult run(Generator g, GenerationRequest request, List<GeneratedToken> into) {
        try (Generation gen = g.start(request)) {
            while (gen.hasNext()) {
                into.add(gen.next());
            }
            return gen.result();
        }
    }

    /** A shift as the forward pass sees it: the state's gear field, then each linear layer of block 0 at that gear. */
    static Shift shift(LlamaModel m, int rounds, int iterations) {
        LlamaState s = m.newState(1);
        Linear[] block = m.weights().layers()[0].linears();
        Gear[] gears = Gear.values();
        long sink = 0;
        double[] nanos = new double[rounds];
        for (int round = -WARM_UP_ROUNDS; round < rounds; round++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < iterations; i++) {
                s.shift(gears[i % 3]);
                for (Linear l : block) {
                    sink += l.at(s.gear()).rows();
                }
            }
            long dt = System.nanoTime() - t0;
            if (round >= 0) {
                nanos[round] = dt / (double) iterations;
            }
        }
        blackhole = sink; // the lookups' results are used, so the JIT cannot drop them
        Stats st = Stats.of(nanos);
        return new Shift(st, iterations, SHIFT_TARGET_NANOS, st.median() < SHIFT_TARGET_NANOS);
    }

    /** Monitor update timings on seeded Gaussian logits (sd 3) of {@code vocabulary} entries. */
    static Monitor monitor(int vocabulary, int rounds, int iterations) {
        SplittableRandom random = new SplittableRandom(1);
        float[] logits = new float[vocabulary];
        for (int i = 0; i < vocabulary; i++) {
            logits[i] = (float) (random.nextGaussian() * 3);
        }
        EntropyMonitor monitor = new EntropyMonitor(4, vocabulary);
        ThresholdPolicy policy = new ThresholdPolicy(ModelFamily.LLAMA3.thresholdsFor(vocabulary));
        double[] update = new double[rounds];
        double[] withPolicy = new double[rounds];
        Gear gear = Gear.MID;
        for (int round = -WARM_UP_ROUNDS; round < rounds; round++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < iterations; i++) {
                monitor.observe(logits);
            }
            long t1 = System.nanoTime();
            for (int i = 0; i < iterations; i++) {
                monitor.observe(logits);
                gear = policy.next(gear, monitor);
            }
            long t2 = System.nanoTime();
            if (round >= 0) {
                update[round] = (t1 - t0) / 1e3 / iterations;
                withPolicy[round] = (t2 - t1) / 1e3 / iterations;
            }
        }
        Stats u = Stats.of(update);
        boolean stated = vocabulary >= MONITOR_TARGET_VOCABULARY;
        return new Monitor(vocabulary, u, Stats.of(withPolicy), stated ? MONITOR_TARGET_MICROS : null,
                stated ? u.median() < MONITOR_TARGET_MICROS : null);
    }

    /** Median decode tokens/s of each variant, one bar each in its gear's colour. */
    private static CategoryChart chart(Results r, String model) {
        CategoryChart c = new CategoryChartBuilder().width(Charts.WIDTH).height(Charts.HEIGHT)
                .title(String.format("Decode tokens/s per gear - %s (median of %d runs x %d tokens)", model, r.runs(), r.tokensPerRun()))
                .xAxisTitle("variant").yAxisTitle("tokens/s").build();
        c.getStyler().setLegendVisible(false);
        c.getStyler().setOverlapped(true); // one series per variant, so each bar has its gear's colour
        List<String> names = r.variants().stream().map(Variant::variant).toList();
        if (names.isEmpty()) {
            c.addSeries("none", List.of("none"), List.of(0.0));
        }
        for (int i = 0; i < names.size(); i++) {
            List<Double> y = new ArrayList<>();
            for (int j = 0; j < names.size(); j++) {
                y.add(i == j ? r.variants().get(i).tokensPerSecond().median() : 0.0);
            }
            c.addSeries(names.get(i), names, y).setFillColor(Charts.variantColor(names.get(i)));
        }
        return c;
    }
}
