package dev.gearbx.examples.bench;

import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.gear.GearConfig;
import dev.gearbx.engine.gear.ManagedScope;
import dev.gearbx.engine.gear.MemoryReport;
import dev.gearbx.engine.model.LlamaModel;
import dev.gearbx.engine.routing.RoutingOptions;
import dev.gearbx.engine.tensor.Kernels;
import dev.gearbx.reactive.Gearbx;
import dev.gearbx.reactive.GearbxModel;
import dev.gearbx.reactive.GenerationSummary;
import dev.gearbx.reactive.StreamOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import reactor.core.publisher.Flux;

/**
 * Sustained throughput as a server would see it: many prompts through the reactive
 * {@link GearbxModel}, several streams at a time sharing one model, at each concurrency level; with
 * the memory the process held (heap, off-heap, mapped) and the share of tokens per gear.
 */
@Command(name = "production", mixinStandardHelpOptions = true,
        description = "Sustained tokens/s over many prompts and concurrent streams, with memory and gear shares.")
final class ProductionBench implements Callable<Integer> {

    @Spec
    @SuppressWarnings("NullAway.Init")
    CommandSpec spec;

    @Mixin
    BenchOptions bench = new BenchOptions();

    @Option(names = "--prompts", description = "Prompts per concurrency level, cycling through the prompt set (default: 24; 4 with --unit).")
    @Nullable Integer promptCount;

    @Option(names = "--prompt-file", description = "Prompts, one per line (default: the entropy benchmark's trivial and hard prompts).")
    @Nullable Path promptFile;

    @Option(names = "--concurrency", split = ",", description = "Concurrent streams, one run per value (default: 1,2,4; 1,2 with --unit).")
    @Nullable List<Integer> concurrency;

    @Option(names = "--tokens", description = "Tokens per prompt (default: 64; 8 with --unit).")
    @Nullable Integer tokens;

    @Option(names = "--threads", description = "Compute threads of the model: streams stepping at once (default: the cores).")
    @Nullable Integer threads;

    @Option(names = "--gear", description = "Pin every stream at this gear instead of routing (LOW, MID, HIGH).")
    @Nullable Gear pinned;

    @Option(names = "--manage", defaultValue = "ATTENTION", description = "Managed layers: ATTENTION, MLP, ALL (default: ${DEFAULT-VALUE}).")
    ManagedScope scope = ManagedScope.ATTENTION;

    /**
     * Memory of the model's weights (from the engine's report, every gear's format built) and peaks of
     * the process while the run went on.
     *
     * @param mappedBytes the memory-mapped model file
     * @param offHeapBytes quantized formats off the heap (nested LOW/MID counted once)
     * @param weightHeapBytes small weights copied to the heap (norms, biases)
     */
    record ModelMemory(long mappedBytes, long offHeapBytes, Map<Gear, Long> offHeapByGear, long weightHeapBytes) {}

    /** Peaks sampled every 50 ms during one run; RSS figures are 0 where /proc is absent. */
    record ProcessMemory(long heapUsedPeakBytes, long rssAnonPeakBytes, long rssFilePeakBytes) {}

    /** One concurrency level. */
    record Level(int concurrency, int prompts, int tokens, double wallSeconds, double tokensPerSecond,
            Stats streamTokensPerSecond, Stats timeToFirstTokenMillis, Map<Gear, Double> gearShares, ProcessMemory memory) {}

    /** The results section of the JSON. */
    record Results(int promptsPerLevel, int tokensPerPrompt, int computeThreads, String routing, String managed,
            ModelMemory modelMemory, List<Level> levels) {}

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        int n = BenchOptions.positive("--prompts", promptCount != null ? promptCount : bench.unit ? 4 : 24);
        int t = BenchOptions.positive("--tokens", tokens != null ? tokens : bench.unit ? 8 : 64);
        List<Integer> levels = concurrency != null ? concurrency : bench.unit ? List.of(1, 2) : List.of(1, 2, 4);
        int computeThreads = BenchOptions.positive("--threads", threads != null ? threads : Runtime.getRuntime().availableProcessors());
        levels.forEach(c -> BenchOptions.positive("--concurrency", c));
        List<String> set = new ArrayList<>(Prompts.TRIVIAL);
        set.addAll(Prompts.HARD);
        set = Prompts.read(promptFile, set, "--prompt-file");
        List<String> prompts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            prompts.add(set.get(i % set.size()));
        }
        Path path = bench.modelFile();
        GearConfig gears = GearConfig.builder().scope(scope).build();
        ModelMemory modelMemory = modelMemory(path, gears);
        RoutingOptions routing = pinned != null ? RoutingOptions.pinned(pinned) : Gearbx.DEFAULT_ROUTING;
        StreamOptions options = StreamOptions.builder().maxTokens(t).stopAtEndOfGeneration(false).routing(routing).build();
        List<Level> rows = new ArrayList<>();
        try (GearbxModel model = Gearbx.builder().model(path).gears(gears).computeThreads(computeThreads).build();
                Progress progress = bench.progress("production", (long) n * levels.size())) {
            model.generate(prompts.getFirst(), options).block(); // warm-up
            for (int c : levels) {
                rows.add(run(model, prompts, options, c, t, progress));
            }
        }
        Results results = new Results(n, t, computeThreads, pinned != null ? "pinned " + pinned : "routed", scope.name(),
                modelMemory, rows);

        out.printf("model %s (%s mode), %d prompts x %d tokens per level, %d compute threads, %s (managed: %s)%n",
                path.getFileName(), bench.mode(), n, t, computeThreads, results.routing(), scope);
        out.printf("weights: mapped %.1f MB, off-heap formats %.1f MB, heap %.2f MB%n", modelMemory.mappedBytes() / 1e6,
                modelMemory.offHeapBytes() / 1e6, modelMemory.weightHeapBytes() / 1e6);
        out.printf("%6s %10s %12s %14s %10s %12s %12s %12s  %s%n", "streams", "wall s", "tok/s total", "tok/s/stream",
                "TTFT ms", "heap MB", "RSS anon MB", "RSS file MB", "gears");
        for (Level l : rows) {
            out.printf("%6d %10.2f %12.1f %14.1f %10.2f %12.1f %12.1f %12.1f  %s%n", l.concurrency(), l.wallSeconds(),
                    l.tokensPerSecond(), l.streamTokensPerSecond().median(), l.timeToFirstTokenMillis().median(),
                    l.memory().heapUsedPeakBytes() / 1e6, l.memory().rssAnonPeakBytes() / 1e6,
                    l.memory().rssFilePeakBytes() / 1e6, EntropyBench.format(l.gearShares()));
        }
        out.flush();
        BenchReport.of("production", bench, path.getFileName().toString(), spec.commandLine().getParseResult().originalArgs(), results)
                .write(bench.json);
        Charts.save(chart(results, path.getFileName().toString()), bench.chartFile());
        return 0;
    }

    private static Level run(GearbxModel model, List<String> prompts, StreamOptions options, int concurrency, int tokens,
            Progress progress) throws InterruptedException {
        try (MemorySampler sampler = MemorySampler.start()) {
            long t0 = System.nanoTime();
            List<GenerationSummary> done = Flux.fromIterable(prompts)
                    .flatMap(p -> model.generate(p, options).doOnNext(s -> progress.step()), concurrency)
                    .collectList().block();
            double wall = (System.nanoTime() - t0) / 1e9;
            List<GenerationSummary> all = done == null ? List.of() : done;
            long generated = all.stream().mapToLong(GenerationSummary::tokens).sum();
            Map<Gear, Double> shares = new EnumMap<>(Gear.class);
            for (GenerationSummary s : all) {
                s.gearShares().forEach((g, share) -> shares.merge(g, share * s.tokens() / Math.max(1, generated), Double::sum));
            }
            return new Level(concurrency, all.size(), tokens, wall, generated / wall,
                    Stats.of(all.stream().mapToDouble(GenerationSummary::tokensPerSecond).toArray()),
                    Stats.of(all.stream().mapToDouble(s -> s.timeToFirstTokenNanos() / 1e6).toArray()), shares, sampler.peaks());
        }
    }

    /** The engine's memory report of the model with every gear's format built (loaded once, then closed). */
    private static ModelMemory modelMemory(Path path, GearConfig gears) {
        try (LlamaModel m = LlamaModel.load(path, Kernels.preferred(), gears)) {
            for (Gear g : Gear.values()) {
                m.precision().prepare(g);
            }
            MemoryReport r = m.memory();
            return new ModelMemory(r.mappedBytes(), r.offHeapBytes(), new EnumMap<>(r.offHeapByGear().isEmpty()
                    ? Map.of() : r.offHeapByGear()), r.heapBytes());
        }
    }

    /** Samples heap use and resident memory every 50 ms on a daemon thread, keeping the peaks. */
    private static final class MemorySampler implements AutoCloseable {
        private final AtomicLong heap = new AtomicLong();
        private final AtomicLong anon = new AtomicLong();
        private final AtomicLong file = new AtomicLong();
        private final MemoryMXBean bean = ManagementFactory.getMemoryMXBean();
        private final Thread thread;
        private volatile boolean running = true;

        private MemorySampler() {
            thread = Thread.ofPlatform().daemon().name("gearbx-bench-memory").unstarted(this::loop);
        }

        static MemorySampler start() {
            MemorySampler s = new MemorySampler();
            s.sample();
            s.thread.start();
            return s;
        }

        private void loop() {
            while (running) {
                sample();
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        private void sample() {
            heap.accumulateAndGet(bean.getHeapMemoryUsage().getUsed(), Math::max);
            try {
                for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                    if (line.startsWith("RssAnon:")) {
                        anon.accumulateAndGet(kilobytes(line) * 1024, Math::max);
                    } else if (line.startsWith("RssFile:")) {
                        file.accumulateAndGet(kilobytes(line) * 1024, Math::max);
                    }
                }
            } catch (IOException | RuntimeException e) {
                // not Linux: the RSS figures stay 0
            }
        }

        private static long kilobytes(String line) {
            return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }

        ProcessMemory peaks() {
            sample();
            return new ProcessMemory(heap.get(), anon.get(), file.get());
        }

        @Override
        public void close() throws InterruptedException {
            running = false;
            thread.interrupt();
            thread.join();
        }
    }

    /** Total tokens/s at each concurrency, each bar split into the gears that produced the tokens. */
    private static CategoryChart chart(Results r, String model) {
        CategoryChart c = new CategoryChartBuilder().width(Charts.WIDTH).height(Charts.HEIGHT)
                .title(String.format("Sustained tokens/s by gear - %s, %d prompts x %d tokens per level", model,
                        r.promptsPerLevel(), r.tokensPerPrompt()))
                .xAxisTitle("concurrent streams").yAxisTitle("tokens/s (all streams)").build();
        c.getStyler().setStacked(true);
        c.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideNW);
        List<String> x = r.levels().stream().map(l -> Integer.toString(l.concurrency())).toList();
        if (x.isEmpty()) {
            c.addSeries("none", List.of("none"), List.of(0.0));
            return c;
        }
        for (Gear g : Gear.values()) {
            List<Double> y = r.levels().stream().map(l -> l.tokensPerSecond() * l.gearShares().getOrDefault(g, 0.0)).toList();
            c.addSeries(g.name(), x, y).setFillColor(Charts.color(g));
        }
        return c;
    }
}
