package dev.gearbx.examples.bench;

import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.gear.GearConfig;
import dev.gearbx.engine.gear.ManagedScope;
import dev.gearbx.engine.generate.Generation;
import dev.gearbx.engine.generate.GenerationRequest;
import dev.gearbx.engine.generate.GenerationResult;
import dev.gearbx.engine.generate.Generator;
import dev.gearbx.engine.model.LlamaModel;
import dev.gearbx.engine.model.LlamaState;
import dev.gearbx.engine.routing.Entropy;
import dev.gearbx.engine.routing.Router;
import dev.gearbx.engine.routing.RoutingOptions;
import dev.gearbx.engine.routing.Thresholds;
import dev.gearbx.engine.tensor.Kernels;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Quality per gear variant: exact-match accuracy on a JSONL task file (GSM8K layout, answer after
 * {@code ####}), decode tokens/s while answering, and against HIGH under teacher forcing the mean
 * KL divergence KL(P_HIGH || P_variant) in nats and top-1 agreement. Teacher forcing: HIGH writes a
 * greedy continuation of each KL prompt; every variant then reads the same tokens, so all are
 * compared position by position (a routed variant picks its gears from its own entropies).
 */
@Command(name = "quality", mixinStandardHelpOptions = true,
        description = "Exact-match accuracy on a JSONL task file, KL divergence and top-1 agreement vs HIGH, per gear and routed.")
final class QualityBench implements Callable<Integer> {

    @Spec
    @SuppressWarnings("NullAway.Init")
    CommandSpec spec;

    @Mixin
    BenchOptions bench = new BenchOptions();

    @Option(names = "--tasks", description = "JSONL task file {\"question\", \"answer\": \"... #### 42\", \"level\"} (default: built-in arithmetic).")
    @Nullable Path tasksFile;

    @Option(names = "--limit", defaultValue = "0", description = "Use only the first N tasks, 0 = all (default: ${DEFAULT-VALUE}).")
    int limit;

    @Option(names = "--template", defaultValue = "{question}",
            description = "Prompt made of a task; {question} is replaced (default: ${DEFAULT-VALUE}).")
    String template = "{question}";

    @Option(names = "--max-tokens", description = "Most tokens per answer (default: 48; 8 with --unit).")
    @Nullable Integer maxTokens;

    @Option(names = "--variants", split = ",", defaultValue = "HIGH,MID,LOW,LOW:INT4,LOW:INT2,ROUTED",
            description = "Pinned gears GEAR[:FORMAT] and/or ROUTED (default: ${DEFAULT-VALUE}).")
    List<String> variants = List.of();

    @Option(names = "--kl-prompts", split = "\\|",
            description = "Prompts of the KL comparison, separated by | (default: the task prompts).")
    @Nullable List<String> klPrompts;

    @Option(names = "--kl-tokens", description = "Tokens HIGH writes after each KL prompt (default: 64; 8 with --unit).")
    @Nullable Integer klTokens;

    @Option(names = "--manage", defaultValue = "ALL", description = "Managed layers: ATTENTION, MLP, ALL (default: ${DEFAULT-VALUE}).")
    ManagedScope scope = ManagedScope.ALL;

    @Option(names = "--group-size", defaultValue = "32", description = "Weights per scale (default: ${DEFAULT-VALUE}).")
    int groupSize = 32;

    @Option(names = "--samples", defaultValue = "3", description = "Answers per variant kept in the JSON (default: ${DEFAULT-VALUE}).")
    int samples = 3;

    /** Accuracy on the tasks of one level. */
    record LevelAccuracy(String level, int tasks, int correct, double accuracy) {}

    /** One variant's figures. */
    record VariantQuality(String variant, int tasks, int correct, double accuracy, List<LevelAccuracy> byLevel,
            int generatedTokens, double tokensPerSecond, double meanKlNats, double top1Agreement, int positions,
            Map<Gear, Double> gearShares) {}

    /** One answer as the model wrote it. */
    record Sample(String variant, String question, String expected, @Nullable String extracted, boolean correct, String output) {}

    /** The results section of the JSON. */
    record Results(String tasks, String template, int taskCount, int maxTokens, String managed, int groupSize,
            int klSequences, int klTokens, List<VariantQuality> variants, List<Sample> samples) {}

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        List<Tasks.Task> tasks = Tasks.read(tasksFile, bench.unit && limit == 0 ? 4 : limit);
        int answerTokens = BenchOptions.positive("--max-tokens", maxTokens != null ? maxTokens : bench.unit ? 8 : 48);
        int klN = BenchOptions.positive("--kl-tokens", klTokens != null ? klTokens : bench.unit ? 8 : 64);
        List<BenchVariant> vs = variants.stream().map(BenchVariant::parse).toList();
        List<String> kl = klPrompts != null ? klPrompts : tasks.stream().map(this::prompt).toList();
        Path path = bench.modelFile();

        List<int[]> sequences = new ArrayList<>();
        List<Integer> starts = new ArrayList<>();
        List<float[][]> reference = new ArrayList<>();
        List<VariantQuality> rows = new ArrayList<>();
        List<Sample> kept = new ArrayList<>();
        try (Progress progress = bench.progress("quality", kl.size() + (long) vs.size() * (tasks.size() + kl.size()))) {
            // 1. the reference: HIGH's greedy continuation of each KL prompt and HIGH's distributions along it
            try (LlamaModel m = LlamaModel.load(path, Kernels.preferred(), GearConfig.NONE)) {
                Generator g = new Generator(m);
                for (String p : kl) {
                    try (Generation gen = g.start(GenerationRequest.builder(p).maxTokens(klN).stopAtEndOfGeneration(false)
                            .routing(RoutingOptions.pinned(Gear.HIGH)).build())) {
                        while (gen.hasNext()) {
                            gen.next();
                        }
                        int[] prompt = gen.promptTokens();
                        int[] generated = gen.result().tokenIds();
                        int[] seq = new int[prompt.length + generated.length];
                        System.arraycopy(prompt, 0, seq, 0, prompt.length);
                        System.arraycopy(generated, 0, seq, prompt.length, generated.length);
                        sequences.add(seq);
                        starts.add(prompt.length - 1);
                        reference.add(distributions(m, seq, prompt.length - 1, p, BenchVariant.parse("HIGH"), null));
                    }
                    progress.step();
                }
            }
            // 2. each variant answers the tasks, then reads the reference tokens
            for (BenchVariant v : vs) {
                try (LlamaModel m = LlamaModel.load(path, Kernels.preferred(), v.config(scope, groupSize))) {
                    v.prepare(m);
                    rows.add(evaluate(m, v, tasks, answerTokens, kl, sequences, starts, reference, kept, progress));
                }
            }
        }
        int positions = reference.stream().mapToInt(r -> r.length).sum();
        Results results = new Results(tasksFile == null ? "built-in:" + Tasks.DEFAULT_RESOURCE : tasksFile.toString(), template,
                tasks.size(), answerTokens, scope.name(), groupSize, kl.size(), klN, rows, kept);

        out.printf("model %s (%s mode), %d tasks (%s), %d KL positions over %d sequences (managed: %s, group %d)%n",
                path.getFileName(), bench.mode(), tasks.size(), results.tasks(), positions, kl.size(), scope, groupSize);
        out.printf("%-16s %9s %9s %10s %14s %12s  %s%n", "variant", "accuracy", "correct", "tok/s", "mean KL (nats)",
                "top-1 agree", "by level / gears");
        for (VariantQuality q : rows) {
            StringBuilder levels = new StringBuilder();
            for (LevelAccuracy l : q.byLevel()) {
                levels.append(String.format("%s:%.0f%% ", l.level(), 100 * l.accuracy()));
            }
            out.printf("%-16s %8.1f%% %4d/%-4d %10.1f %14.5f %11.1f%%  %s%s%n", q.variant(), 100 * q.accuracy(), q.correct(),
                    q.tasks(), q.tokensPerSecond(), q.meanKlNats(), 100 * q.top1Agreement(), levels,
                    q.variant().equals(BenchVariant.ROUTED) ? EntropyBench.format(q.gearShares()) : "");
        }
        out.flush();
        BenchReport.of("quality", bench, path.getFileName().toString(), spec.commandLine().getParseResult().originalArgs(), results)
                .write(bench.json);
        Charts.save(chart(results, path.getFileName().toString()), bench.chartFile());
        return 0;
    }

    private String prompt(Tasks.Task t) {
        return template.replace("\\n", "\n").replace("{question}", t.question());
    }

    private VariantQuality evaluate(LlamaModel m, BenchVariant v, List<Tasks.Task> tasks, int answerTokens, List<String> kl,
            List<int[]> sequences, List<Integer> starts, List<float[][]> reference, List<Sample> kept, Progress progress) {
        Generator g = new Generator(m);
        int correct = 0;
        int generated = 0;
        long decodeNanos = 0;
        Map<String, int[]> levels = new java.util.LinkedHashMap<>(); // in the order the file has them
        int samplesLeft = samples;
        // warm-up: the first task once, uncounted, so that this variant's kernels are compiled before timing
        g.generate(GenerationRequest.builder(prompt(tasks.getFirst())).maxTokens(answerTokens).routing(v.routing()).build());
        for (Tasks.Task t : tasks) {
            StringBuilder text = new StringBuilder();
            GenerationResult r = g.generate(GenerationRequest.builder(prompt(t)).maxTokens(answerTokens).routing(v.routing()).build(),
                    token -> {
                        text.append(token.text());
                        return !Tasks.complete(text);
                    });
            String got = Tasks.extract(r.text(), t.expected());
            boolean ok = Tasks.matches(t.expected(), got);
            correct += ok ? 1 : 0;
            generated += r.tokenIds().length;
            decodeNanos += r.decodeNanos();
            if (t.level() != null) {
                int[] c = levels.computeIfAbsent(t.level(), k -> new int[2]);
                c[0]++;
                c[1] += ok ? 1 : 0;
            }
            if (samplesLeft-- > 0) {
                kept.add(new Sample(v.label(), t.question(), t.expected(), got, ok, r.text()));
            }
            progress.step();
        }
        double klSum = 0;
        int agree = 0;
        int positions = 0;
        Map<Gear, Double> gearSteps = new EnumMap<>(Gear.class);
        for (int s = 0; s < sequences.size(); s++) {
            float[][] q = distributions(m, sequences.get(s), starts.get(s), kl.get(s), v, gearSteps);
            float[][] p = reference.get(s);
            for (int i = 0; i < p.length; i++) {
                klSum += klDivergence(p[i], q[i]);
                agree += argmax(p[i]) == argmax(q[i]) ? 1 : 0;
            }
            positions += p.length;
            progress.step();
        }
        final int total = positions;
        gearSteps.replaceAll((gear, n) -> n / total);
        List<LevelAccuracy> byLevel = levels.entrySet().stream()
                .map(e -> new LevelAccuracy(e.getKey(), e.getValue()[0], e.getValue()[1], e.getValue()[1] / (double) e.getValue()[0]))
                .toList();
        // KL is >= 0; float rounding can leave a tiny negative sum where the distributions are equal
        return new VariantQuality(v.label(), tasks.size(), correct, correct / (double) tasks.size(), byLevel, generated,
                decodeNanos == 0 ? 0 : generated * 1e9 / decodeNanos, positions == 0 ? 0 : Math.max(0, klSum / positions),
                positions == 0 ? 0 : agree / (double) positions, positions, gearSteps);
    }

    /**
     * Softmax distributions after each position from {@code from} on, reading {@code seq} (teacher
     * forcing). A pinned variant runs every step at its gear; a routed one ingests the prompt at the
     * classifier's gear and then routes on its own entropies, as a generation would; the gear of each
     * compared step is counted into {@code gearSteps} when given.
     */
    private static float[][] distributions(LlamaModel m, int[] seq, int from, String prompt, BenchVariant v,
            @Nullable Map<Gear, Double> gearSteps) {
        LlamaState s = m.newState(seq.length);
        int vocab = m.config().vocabularySize();
        Router router = null;
        Gear gear;
        if (v.routed()) {
            Thresholds t = RoutingOptions.DEFAULT.baseThresholds(m.file().metadata(), vocab);
            gear = RoutingOptions.DEFAULT.startGear(prompt);
            router = new Router(RoutingOptions.DEFAULT, vocab, t, null, gear);
        } else {
            gear = java.util.Objects.requireNonNull(v.pinned()).gear();
        }
        s.shift(gear);
        float[][] out = new float[seq.length - 1 - from][];
        for (int i = 0; i < seq.length - 1; i++) {
            if (router != null && i >= from) {
                s.shift(router.gear());
            }
            float[] logits = m.forward(s, seq[i]);
            if (i >= from) {
                if (gearSteps != null) {
                    gearSteps.merge(s.gear(), 1.0, Double::sum);
                }
                if (router != null) {
                    router.afterStep(Entropy.bits(logits, vocab));
                }
                float[] p = logits.clone();
                m.kernels().softmax(p, 0, p.length);
                out[i - from] = p;
            }
        }
        return out;
    }

    private static double klDivergence(float[] p, float[] q) {
        double kl = 0;
        for (int i = 0; i < p.length; i++) {
            if (p[i] > 0) {
                kl += p[i] * Math.log(p[i] / Math.max(q[i], 1e-30));
            }
        }
        return kl;
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    /** Accuracy (circles) and top-1 agreement with HIGH (diamonds) against decode tokens/s, one colour per variant. */
    private static XYChart chart(Results r, String model) {
        XYChart c = new XYChartBuilder().width(Charts.WIDTH).height(Charts.HEIGHT)
                .title(String.format("Accuracy vs speed - %s, %d tasks", model, r.taskCount()))
                .xAxisTitle("decode tokens/s while answering")
                .yAxisTitle("exact match (circles), top-1 agreement with HIGH (diamonds)").build();
        c.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        c.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.OutsideE);
        c.getStyler().setMarkerSize(11);
        c.getStyler().setYAxisMin(0.0);
        c.getStyler().setYAxisMax(1.05);
        int i = 0;
        for (VariantQuality q : r.variants()) {
            java.awt.Color color = q.variant().equals(BenchVariant.ROUTED) ? Charts.palette(0) : Charts.variantColor(q.variant());
            if (q.variant().equals("LOW:INT2")) {
                color = Charts.palette(1);
            } else if (q.variant().equals("LOW:INT4")) {
                color = Charts.palette(3);
            }
            XYSeries a = c.addSeries(q.variant() + " accuracy", new double[] {q.tokensPerSecond()}, new double[] {q.accuracy()});
            a.setMarker(SeriesMarkers.CIRCLE);
            a.setMarkerColor(color);
            XYSeries t = c.addSeries(q.variant() + " top-1", new double[] {q.tokensPerSecond()}, new double[] {q.top1Agreement()});
            t.setMarker(SeriesMarkers.DIAMOND);
            t.setMarkerColor(color);
            i++;
        }
        if (i == 0) {
            c.addSeries("none", new double[] {0}, new double[] {0});
        }
        return c;
    }
}
