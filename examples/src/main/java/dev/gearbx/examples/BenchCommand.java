package dev.gearbx.examples;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
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
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Decode speed on synthetic models of a given shape and type (made with the GGUF writer on first
 * use), beside this machine's measured read bandwidth.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure decode tokens/s on synthetic models and compare with memory bandwidth.")
final class BenchCommand implements Callable<Integer> {

    @Spec
    @SuppressWarnings("NullAway.Init")
    CommandSpec spec;

    @Option(names = "--shape", split = ",", defaultValue = "110m", description = "Model shapes: 110m, 1b (default: ${DEFAULT-VALUE}).")
    List<String> shapes = List.of("110m");

    @Option(names = "--type", split = ",", defaultValue = "F16",
            description = "Weight types of the synthetic models: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K (default: ${DEFAULT-VALUE}).")
    List<GgmlType> types = List.of(GgmlType.F16);

    @Option(names = "--model", description = "Benchmark this GGUF file instead of synthetic shapes.")
    @Nullable Path model;

    @Option(names = "--tokens", defaultValue = "64", description = "Tokens decoded per run (default: ${DEFAULT-VALUE}).")
    int tokens = 64;

    @Option(names = "--runs", defaultValue = "5", description = "Timed runs; the median is reported (default: ${DEFAULT-VALUE}).")
    int runs = 5;

    @Option(names = "--dir", defaultValue = "target/bench-models", description = "Where synthetic models are written (default: ${DEFAULT-VALUE}).")
    Path dir = Path.of("target/bench-models");

    @Option(names = "--variants", split = ",", defaultValue = "HIGH",
            description = "Pinned gears to time, GEAR[:FORMAT]: HIGH, MID, LOW, LOW:INT2, MID:INT6 ... (default: ${DEFAULT-VALUE}).")
    List<String> variants = List.of("HIGH");

    @Option(names = "--manage", defaultValue = "ALL", description = "Managed layers for the gear variants: ATTENTION, MLP, ALL (default: ${DEFAULT-VALUE}).")
    ManagedScope scope = ManagedScope.ALL;

    @Option(names = "--group-size", defaultValue = "32", description = "Weights per scale of the packed formats (default: ${DEFAULT-VALUE}).")
    int groupSize = 32;

    @Option(names = "--bandwidth", negatable = true, defaultValue = "true", description = "Measure memory read bandwidth first (default: ${DEFAULT-VALUE}).")
    boolean bandwidth = true;

    @Option(names = "--json", description = "Also write the results as JSON to this file.")
    @Nullable Path json;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("date", Instant.now().toString());
        report.put("threads", Integer.getInteger("gearbx.threads", Runtime.getRuntime().availableProcessors()));
        report.put("cpu", cpuName());
        double bw = 0;
        if (bandwidth) {
            double one = MemoryBandwidth.measure(1, 1L << 30, 5);
            int threads = Runtime.getRuntime().availableProcessors();
            bw = MemoryBandwidth.measure(threads, 1L << 30, 5);
            out.printf("memory read bandwidth: %.1f GB/s (1 thread), %.1f GB/s (%d threads)%n", one, bw, threads);
            report.put("bandwidthGBs1Thread", one);
            report.put("bandwidthGBsAllThreads", bw);
        }
        List<Map<String, Object>> rows = new ArrayList<>();
        out.printf("%-28s %-16s %10s %12s %10s %10s %8s %9s%n", "model", "gear", "MB/token", "tok/s med", "min", "max",
                "% bw", "route %");
        List<Path> files = new ArrayList<>();
        if (model != null) {
            files.add(model);
        } else {
            Files.createDirectories(dir);
            for (String s : shapes) {
                ModelShape shape = ModelShape.named(s);
                for (GgmlType t : types) {
                    Path p = dir.resolve("synthetic-" + shape.name() + "-" + t.name().toLowerCase() + ".gguf");
                    if (!Files.exists(p)) {
                        out.printf("writing %s ...%n", p);
                        out.flush();
                        SyntheticModel.write(p, shape, t, 42, 0.05f);
                    }
                    files.add(p);
                }
            }
        }
        for (Path p : files) {
          for (String spec : variants) {
            GearVariant variant = GearVariant.parse(spec);
            try (LlamaModel m = LlamaModel.load(p, Kernels.preferred(), variant.config(scope, groupSize))) {
                m.precision().prepare(variant.gear());
                double[] routeFraction = new double[1];
                double[] tps = decodeSpeed(m, variant.gear(), routeFraction);
                long bytes = m.weights().bytesReadPerToken(variant.gear());
                double median = tps[tps.length / 2];
                double pct = bw > 0 ? 100 * bytes * median / 1e9 / bw : Double.NaN;
                String name = p.getFileName().toString().replace(".gguf", "");
                out.printf("%-28s %-16s %10.1f %12.2f %10.2f %10.2f %8.1f %9.3f%n", name, variant.label(), bytes / 1e6, median,
                        tps[0], tps[tps.length - 1], pct, 100 * routeFraction[0]);
                out.flush();
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("model", name);
                row.put("gear", variant.label());
                row.put("routingOverheadFraction", routeFraction[0]);
                row.put("bytesPerToken", bytes);
                row.put("tokensPerSecondMedian", median);
                row.put("tokensPerSecondMin", tps[0]);
                row.put("tokensPerSecondMax", tps[tps.length - 1]);
                row.put("effectiveGBs", bytes * median / 1e9);
                row.put("fractionOfBandwidth", bw > 0 ? pct / 100 : null);
                rows.add(row);
            }
          }
        }
        report.put("results", rows);
        if (json != null) {
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), report);
        }
        return 0;
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

    private static String cpuName() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                    .filter(l -> l.startsWith("model name")).findFirst()
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("unknown");
        } catch (Exception e) {
            return "unknown";
        }
    }
}
