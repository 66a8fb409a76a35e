package dev.gearbx.examples.bench;

import dev.gearbx.engine.gguf.GgmlType;
import dev.gearbx.engine.model.LlamaModel;
import dev.gearbx.engine.model.LlamaState;
import dev.gearbx.engine.model.ModelShape;
import dev.gearbx.engine.model.SyntheticModel;
import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.gear.ManagedScope;
import dev.gearbx.engine.routing.EntropyMonitor;
import dev.gearbx.engine.routing.ModelFamily;
import dev.gearbx.engine.routing.ThresholdPolicy;
import dev.gearbx.engine.tensor.Kernels;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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
 * Decode speed on synthetic models of a given shape and type (made with the GGUF writer on first
 * use), beside this machine's measured read bandwidth; each model pinned at each gear variant.
 */
@Command(name = "decode", mixinStandardHelpOptions = true,
        description = "Measure decode tokens/s on synthetic models (or --model) per gear and compare with memory bandwidth.")
final class DecodeBench implements Callable<Integer> {

    @Spec
    @SuppressWarnings("NullAway.Init")
    CommandSpec spec;

    @Mixin
    BenchOptions bench = new BenchOptions();

    @Option(names = "--shape", split = ",", defaultValue = "110m", description = "Model shapes: 110m, 1b (default: ${DEFAULT-VALUE}).")
    List<String> shapes = List.of("110m");

    @Option(names = "--type", split = ",", defaultValue = "F16",
            description = "Weight types of the synthetic models: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K (default: ${DEFAULT-VALUE}).")
    List<GgmlType> types = List.of(GgmlType.F16);

    @Option(names = "--tokens", defaultValue = "64", description = "Tokens decoded per run (default: ${DEFAULT-VALUE}).")
    int tokens = 64;

    @Option(names = "--runs", defaultValue = "5", description = "Timed runs; the median is reported (default: ${DEFAULT-VALUE}).")
    int runs = 5;

    @Option(names = "--variants", split = ",", defaultValue = "HIGH",
            description = "Pinned gears to time, GEAR[:FORMAT]: HIGH, MID, LOW, LOW:INT2, MID:INT6 ... (default: ${DEFAULT-VALUE}).")
    List<String> variants = List.of("HIGH");

    @Option(names = "--manage", defaultValue = "ALL", description = "Managed layers for the gear variants: ATTENTION, MLP, ALL (default: ${DEFAULT-VALUE}).")
    ManagedScope scope = ManagedScope.ALL;

    @Option(names = "--group-size", defaultValue = "32", description = "Weights per scale of the packed formats (default: ${DEFAULT-VALUE}).")
    int groupSize = 32;

    @Option(names = "--bandwidth", negatable = true, defaultValue = "true", description = "Measure memory read bandwidth first (default: ${DEFAULT-VALUE}; off with --unit).")
    boolean bandwidth = true;

    /** One model at one gear variant. */
    record Row(String model, String gear, long bytesPerToken, double tokensPerSecondMedian, double tokensPerSecondMin,
            double tokensPerSecondMax, double effectiveGBs, @Nullable Double fractionOfBandwidth, double routingOverheadFraction) {}

    /** The results section of the JSON. */
    record Results(int tokens, int runs, @Nullable Double bandwidthGBs1Thread, @Nullable Double bandwidthGBsAllThreads,
            List<Row> rows) {}

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        BenchOptions.positive("--tokens", tokens);
        BenchOptions.positive("--runs", runs);
        if (bench.unit) {
            tokens = Math.min(tokens, 8);
            runs = 1;
            bandwidth = false;
        }
        Double one = null;
        Double all = null;
        double bw = 0;
        if (bandwidth) {
            one = MemoryBandwidth.measure(1, 1L << 30, 5);
            int threads = Runtime.getRuntime().availableProcessors();
            bw = MemoryBandwidth.measure(threads, 1L << 30, 5);
            all = bw;
            out.printf("memory read bandwidth: %.1f GB/s (1 thread), %.1f GB/s (%d threads)%n", one, bw, threads);
        }
        List<Row> rows = new ArrayList<>();
        out.printf("%-28s %-16s %10s %12s %10s %10s %8s %9s%n", "model", "gear", "MB/token", "tok/s med", "min", "max",
                "% bw", "route %");
        List<Path> files = new ArrayList<>();
        if (bench.unit) {
            files.add(UnitModel.file(bench.dir));
        } else if (bench.model != null) {
            files.add(bench.modelFile());
        } else {
            Files.createDirectories(bench.dir);
            for (String s : shapes) {
                ModelShape shape = ModelShape.named(s);
                for (GgmlType t : types) {
                    Path p = bench.dir.resolve("synthetic-" + shape.name() + "-" + t.name().toLowerCase(java.util.Locale.ROOT) + ".gguf");
                    if (!Files.exists(p)) {
                        out.printf("writing %s ...%n", p);
                        out.flush();
                        SyntheticModel.write(p, shape, t, 42, 0.05f);
                    }
                    files.add(p);
                }
            }
        }
        try (Progress progress = bench.progress("decode", (long) files.size() * variants.size())) {
          for (Path p : files) {
            for (String v : variants) {
              GearVariant variant = GearVariant.parse(v);
              try (LlamaModel m = LlamaModel.load(p, Kernels.preferred(), variant.config(scope, groupSize))) {
                m.precision().prepare(variant.gear());
                double[] routeFraction = new double[1];
                double[] tps = decodeSpeed(m, variant.gear(), routeFraction);
                long bytes = m.weights().bytesReadPerToken(variant.gear());
                double median = Stats.of(tps).median();
                double pct = bw > 0 ? 100 * bytes * median / 1e9 / bw : Double.NaN;
                String name = p.getFileName().toString().replace(".gguf", "");
                out.printf("%-28s %-16s %10.1f %12.2f %10.2f %10.2f %8.1f %9.3f%n", name, variant.label(), bytes / 1e6, median,
                        tps[0], tps[tps.length - 1], pct, 100 * routeFraction[0]);
                out.flush();
                rows.add(new Row(name, variant.label(), bytes, median, tps[0], tps[tps.length - 1], bytes * median / 1e9,
                        bw > 0 ? pct / 100 : null, routeFraction[0]));
              }
              progress.step();
            }
          }
        }
        Results results = new Results(tokens, runs, one, all, rows);
        BenchReport.of("decode", bench, files.size() == 1 ? files.getFirst().getFileName().toString() : "synthetic",
                spec.commandLine().getParseResult().originalArgs(), results).write(bench.json);
        Charts.save(chart(results), bench.chartFile());
        return 0;
    }

    /** Median tokens/s of each model and gear, bars coloured by gear. */
    private static CategoryChart chart(Results r) {
        CategoryChart c = new CategoryChartBuilder().width(Charts.WIDTH).height(Charts.HEIGHT)
                .title("Decode tokens/s per gear (median of " + r.runs() + " runs, " + r.tokens() + " tokens)")
                .xAxisTitle("model").yAxisTitle("tokens/s").build();
        c.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideNE);
        List<String> models = r.rows().stream().map(Row::model).distinct().toList();
        List<String> gears = r.rows().stream().map(Row::gear).distinct().toList();
        for (String g : gears) {
            List<Double> y = new ArrayList<>();
            for (String m : models) {
                y.add(r.rows().stream().filter(x -> x.model().equals(m) && x.gear().equals(g))
                        .mapToDouble(Row::tokensPerSecondMedian).findFirst().orElse(0));
            }
            c.addSeries(g, models, y).setFillColor(Charts.variantColor(g));
        }
        return c;
    }

    /**
     * Tokens/s of {@code runs} decodes of {@code tokens} tokens each at {@code gear}, sorted
     * ascending; {@code routeFraction[0]} receives the share of step time spent on routing (entropy
     * monitor and policy), measured in the same steps.
     */
    private double[] decodeSpeed(LlamaModel m, Gear gear, double[] routeFraction) {
        int capacity = Math.min(m.config().contextLength(), tokens + 1);
        LlamaState state = m.newState(capacity);
        int bos = Math.max(m.tokenizer().specialTokens().bos(), 0);
        int vocab = m.config().vocabularySize();
        EntropyMonitor monitor = new EntropyMonitor(4, vocab);
        ThresholdPolicy policy = new ThresholdPolicy(ModelFamily.GENERIC.thresholdsFor(vocab));
        long[] routeNanos = new long[1];
        // warm-up: one full run, so the JIT has compiled the kernels
        decode(m, state, gear, bos, capacity, monitor, policy, routeNanos);
        double[] tps = new double[runs];
        long total = 0;
        routeNanos[0] = 0;
        for (int r = 0; r < runs; r++) {
            long t0 = System.nanoTime();
            int n = decode(m, state, gear, bos, capacity, monitor, policy, routeNanos);
            long dt = System.nanoTime() - t0;
            total += dt;
            tps[r] = n * 1e9 / dt;
        }
        routeFraction[0] = routeNanos[0] / (double) total;
        Arrays.sort(tps);
        return tps;
    }

    /** Greedy decode from BOS at a pinned gear, ignoring end-of-sequence; returns the number of forward steps. */
    private static int decode(LlamaModel m, LlamaState state, Gear gear, int bos, int steps, EntropyMonitor monitor,
            ThresholdPolicy policy, long[] routeNanos) {
        state.reset();
        int token = bos;
        int vocab = m.config().vocabularySize();
        for (int i = 0; i < steps; i++) {
            state.shift(gear);
            float[] logits = m.forward(state, token);
            // what routing adds to a step: entropy, window, policy (its decision is ignored: the gear is pinned)
            long r0 = System.nanoTime();
            monitor.observe(logits);
            policy.next(gear, monitor);
            routeNanos[0] += System.nanoTime() - r0;
            int best = 0;
            for (int v = 1; v < vocab; v++) {
                if (logits[v] > logits[best]) {
                    best = v;
                }
            }
            token = best;
        }
        return steps;
    }
}
