package dev.gearbx.examples.bench;

import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.gear.GearConfig;
import dev.gearbx.engine.gear.ManagedScope;
import dev.gearbx.engine.generate.GeneratedToken;
import dev.gearbx.engine.generate.Generation;
import dev.gearbx.engine.generate.GenerationRequest;
import dev.gearbx.engine.generate.Generator;
import dev.gearbx.engine.model.LlamaModel;
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
 * Entropy separation: the mean entropy of the next-token distribution while generating from "hard"
 * prompts (arithmetic, code) over the same from "trivial" ones (story openings, greetings). Routing
 * can only pick gears well if this ratio is large; the seed's target is above 2. The chart is one
 * generation's entropy trace, each step coloured by the gear it ran at.
 */
@Command(name = "entropy", mixinStandardHelpOptions = true,
        description = "Entropy separation ratio hard/trivial over two prompt sets, and an entropy trace by gear.")
final class EntropyBench implements Callable<Integer> {
    /** The seed's separation target. */
    static final double TARGET_RATIO = 2.0;

    @Spec
    @SuppressWarnings("NullAway.Init")
    CommandSpec spec;

    @Mixin
    BenchOptions bench = new BenchOptions();

    @Option(names = "--hard", description = "File of hard prompts, one per line, \\n for a newline (default: built-in arithmetic and code).")
    @Nullable Path hardFile;

    @Option(names = "--trivial", description = "File of trivial prompts, one per line, \\n for a newline (default: built-in story openings and greetings).")
    @Nullable Path trivialFile;

    @Option(names = "--tokens", description = "Tokens generated per prompt (default: 48; 8 with --unit).")
    @Nullable Integer tokens;

    @Option(names = "--manage", defaultValue = "ATTENTION",
            description = "Managed layers while routing: ATTENTION, MLP, ALL (default: ${DEFAULT-VALUE}).")
    ManagedScope scope = ManagedScope.ATTENTION;

    @Option(names = "--stop-at-end", description = "Stop each generation at the end-of-sequence token instead of always "
            + "generating --tokens (for chat-style models whose replies are shorter than --tokens, e.g. the demo model).")
    boolean stopAtEnd;

    @Option(names = "--trace-prompt", description = "Prompt of the traced generation (default: the first hard prompt).")
    @Nullable String tracePrompt;

    /** Per prompt: mean entropy of its generated tokens and its gear shares. */
    record PromptResult(String set, String prompt, int tokens, double meanEntropyBits, double firstTokenEntropyBits,
            Map<Gear, Double> gearShares) {}

    /** Per set: the mean over its prompts of their mean entropies. */
    record SetResult(String set, int prompts, double meanEntropyBits, double minPromptMean, double maxPromptMean,
            double meanFirstTokenEntropyBits, Map<Gear, Double> gearShares) {}

    /** One step of the traced generation. */
    record TracePoint(int index, double entropyBits, double smoothedBits, Gear gear) {}

    /** The results section of the JSON. */
    record Results(int tokensPerPrompt, String managed, @Nullable Double thresholdLowBits, @Nullable Double thresholdHighBits,
            SetResult hard, SetResult trivial, @Nullable Double separationRatio, @Nullable Double firstTokenRatio,
            double target, boolean meetsTarget,
            List<PromptResult> prompts, String tracePrompt, List<TracePoint> trace) {}

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        int n = BenchOptions.positive("--tokens", tokens != null ? tokens : bench.unit ? 8 : 48);
        List<String> hard = Prompts.read(hardFile, Prompts.HARD, "--hard");
        List<String> trivial = Prompts.read(trivialFile, Prompts.TRIVIAL, "--trivial");
        Path path = bench.modelFile();
        List<PromptResult> prompts = new ArrayList<>();
        List<TracePoint> trace = new ArrayList<>();
        String traced = tracePrompt != null ? tracePrompt : hard.getFirst();
        Thresholds thresholds = null;
        try (LlamaModel m = LlamaModel.load(path, Kernels.preferred(), GearConfig.builder().scope(scope).build());
                Progress progress = bench.progress("entropy", hard.size() + trivial.size() + 1L)) {
            Generator generator = new Generator(m);
            for (String set : List.of("hard", "trivial")) {
                for (String p : set.equals("hard") ? hard : trivial) {
                    List<GeneratedToken> ts = new ArrayList<>();
                    thresholds = generate(generator, p, n, ts);
                    prompts.add(new PromptResult(set, p, ts.size(), mean(ts), ts.isEmpty() ? 0 : ts.getFirst().entropy(),
                            shares(ts)));
                    progress.step();
                }
            }
            List<GeneratedToken> ts = new ArrayList<>();
            generate(generator, traced, n, ts);
            for (GeneratedToken t : ts) {
                trace.add(new TracePoint(t.index(), t.entropy(), t.smoothedEntropy(), t.gear()));
            }
            progress.step();
        }
        SetResult h = set("hard", prompts);
        SetResult t = set("trivial", prompts);
        Double ratio = t.meanEntropyBits() > 0 ? h.meanEntropyBits() / t.meanEntropyBits() : null;
        Double first = t.meanFirstTokenEntropyBits() > 0 ? h.meanFirstTokenEntropyBits() / t.meanFirstTokenEntropyBits() : null;
        Results results = new Results(n, scope.name(), thresholds == null ? null : (double) thresholds.low(),
                thresholds == null ? null : (double) thresholds.high(), h, t, ratio, first, TARGET_RATIO,
                ratio != null && ratio > TARGET_RATIO, prompts, traced, trace);

        out.printf("model %s (%s mode), %d tokens per prompt, routed (managed: %s)%n", path.getFileName(), bench.mode(), n, scope);
        out.printf("%-8s %8s %14s %22s %16s  %s%n", "set", "prompts", "mean H (bits)", "prompt means min-max",
                "1st token H", "gear shares");
        for (SetResult s : List.of(h, t)) {
            out.printf("%-8s %8d %14.3f %11.3f-%-10.3f %16.3f  %s%n", s.set(), s.prompts(), s.meanEntropyBits(), s.minPromptMean(),
                    s.maxPromptMean(), s.meanFirstTokenEntropyBits(), format(s.gearShares()));
        }
        out.printf("separation ratio hard/trivial: %s (target > %.1f: %s); first generated token only: %s%n",
                ratio == null ? "n/a" : String.format("%.2f", ratio), TARGET_RATIO, results.meetsTarget() ? "met" : "not met",
                first == null ? "n/a" : String.format("%.2f", first));
        out.flush();
        BenchReport.of("entropy", bench, path.getFileName().toString(), spec.commandLine().getParseResult().originalArgs(), results)
                .write(bench.json);
        Charts.save(chart(results, path.getFileName().toString()), bench.chartFile());
        return 0;
    }

    /** Greedy routed generation of {@code n} tokens (past end-of-sequence unless --stop-at-end); returns the thresholds used. */
    private @Nullable Thresholds generate(Generator g, String prompt, int n, List<GeneratedToken> into) {
        GenerationRequest request = GenerationRequest.builder(prompt).maxTokens(n).stopAtEndOfGeneration(stopAtEnd)
                .routing(RoutingOptions.DEFAULT).build();
        try (Generation gen = g.start(request)) {
            while (gen.hasNext()) {
                into.add(gen.next());
            }
            return gen.result().thresholds();
        }
    }

    private static double mean(List<GeneratedToken> ts) {
        return ts.stream().mapToDouble(GeneratedToken::entropy).average().orElse(0);
    }

    private static Map<Gear, Double> shares(List<GeneratedToken> ts) {
        Map<Gear, Double> m = new EnumMap<>(Gear.class);
        for (GeneratedToken t : ts) {
            m.merge(t.gear(), 1.0 / ts.size(), Double::sum);
        }
        return m;
    }

    private static SetResult set(String name, List<PromptResult> all) {
        List<PromptResult> ps = all.stream().filter(p -> p.set().equals(name)).toList();
        double[] means = ps.stream().mapToDouble(PromptResult::meanEntropyBits).toArray();
        Map<Gear, Double> shares = new EnumMap<>(Gear.class);
        int tokens = ps.stream().mapToInt(PromptResult::tokens).sum();
        for (PromptResult p : ps) {
            p.gearShares().forEach((g, s) -> shares.merge(g, s * p.tokens() / tokens, Double::sum));
        }
        Stats s = Stats.of(means);
        return new SetResult(name, ps.size(), java.util.Arrays.stream(means).average().orElse(0), s.min(), s.max(),
                ps.stream().mapToDouble(PromptResult::firstTokenEntropyBits).average().orElse(0), shares);
    }

    static String format(Map<Gear, Double> shares) {
        StringBuilder sb = new StringBuilder();
        for (Gear g : Gear.values()) {
            Double s = shares.get(g);
            if (s != null && s > 0) {
                sb.append(sb.isEmpty() ? "" : " ").append(g).append(String.format(" %.0f%%", 100 * s));
            }
        }
        return sb.toString();
    }

    /** The traced generation's entropy per step, a marker per step in its gear's colour, and the thresholds. */
    private static XYChart chart(Results r, String model) {
        XYChart c = new XYChartBuilder().width(Charts.WIDTH).height(Charts.HEIGHT)
                .title(String.format("Entropy trace by gear - %s, \"%s\" (hard/trivial ratio %s)", model,
                        abbreviate(r.tracePrompt()), r.separationRatio() == null ? "n/a" : String.format("%.2f", r.separationRatio())))
                .xAxisTitle("generated token").yAxisTitle("entropy (bits)").build();
        c.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideNE);
        c.getStyler().setMarkerSize(7);
        List<TracePoint> trace = r.trace();
        double[] x = trace.stream().mapToDouble(TracePoint::index).toArray();
        if (x.length == 0) {
            x = new double[] {0};
        }
        XYSeries line = c.addSeries("entropy", x, trace.isEmpty() ? new double[] {0}
                : trace.stream().mapToDouble(TracePoint::entropyBits).toArray());
        line.setLineColor(new java.awt.Color(0x99, 0x99, 0x99));
        line.setMarker(SeriesMarkers.NONE);
        XYSeries smooth = c.addSeries("window average", x, trace.isEmpty() ? new double[] {0}
                : trace.stream().mapToDouble(TracePoint::smoothedBits).toArray());
        smooth.setLineColor(Charts.palette(0));
        smooth.setMarker(SeriesMarkers.NONE);
        for (Gear g : Gear.values()) {
            List<TracePoint> at = trace.stream().filter(p -> p.gear() == g).toList();
            if (at.isEmpty()) {
                continue;
            }
            XYSeries s = c.addSeries(g.name(), at.stream().mapToDouble(TracePoint::index).toArray(),
                    at.stream().mapToDouble(TracePoint::entropyBits).toArray());
            s.setXYSeriesRenderStyle(org.knowm.xchart.XYSeries.XYSeriesRenderStyle.Scatter);
            s.setMarker(SeriesMarkers.CIRCLE);
            s.setMarkerColor(Charts.color(g));
        }
        if (r.thresholdLowBits() != null && r.thresholdHighBits() != null && x.length > 0) {
            double[] ends = {x[0], x[x.length - 1]};
            String[] names = {"LOW|MID threshold", "MID|HIGH threshold"};
            double[] ys = {r.thresholdLowBits(), r.thresholdHighBits()};
            for (int i = 0; i < 2; i++) {
                XYSeries th = c.addSeries(names[i], ends, new double[] {ys[i], ys[i]});
                th.setMarker(SeriesMarkers.NONE);
                th.setLineStyle(org.knowm.xchart.style.lines.SeriesLines.DASH_DASH);
                th.setLineColor(Charts.color(i == 0 ? Gear.MID : Gear.HIGH));
            }
        }
        c.getStyler().setYAxisMin(0.0);
        return c;
    }

    static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 37) + "...";
    }
}
