package dev.gearbx.examples.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.gearbx.demo.DemoCorpus;
import dev.gearbx.demo.DemoModel;
import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.gear.GearConfig;
import dev.gearbx.engine.gear.GearFormat;
import dev.gearbx.engine.gear.ManagedScope;
import dev.gearbx.engine.generate.GeneratedToken;
import dev.gearbx.engine.generate.Generation;
import dev.gearbx.engine.generate.GenerationRequest;
import dev.gearbx.engine.generate.GenerationResult;
import dev.gearbx.engine.generate.Generator;
import dev.gearbx.engine.model.LlamaModel;
import dev.gearbx.engine.routing.RoutingOptions;
import dev.gearbx.engine.tensor.Kernels;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Scores the demo model on its evaluation set: accuracy per difficulty level, mean entropy of the generated tokens
 * (trivial vs arithmetic), gear shares and decode speed, for static gears and for routing, side by side in one run.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Score the demo model per difficulty level for static gears and routing, side by side.",
            "Variants: HIGH, MID, LOW:INT4, LOW:INT2 (static), ROUTED:INT4, ROUTED:INT2 (routing with that LOW format),",
            "suffix :CAL to calibrate the thresholds from the prompt, :ESC to re-run uncertain steps at HIGH."})
final class DemoBench implements Callable<Integer> {

    @Spec
    @SuppressWarnings("NullAway.Init")
    CommandSpec spec;

    @Option(names = {"-m", "--model"}, description = "GGUF model (default: the embedded demo model).")
    @Nullable Path model;

    @Option(names = "--per-level", defaultValue = "50", description = "Exchanges per level (default: ${DEFAULT-VALUE}).")
    int perLevel = 50;

    @Option(names = "--seed", defaultValue = "7", description = "Evaluation set seed (default: ${DEFAULT-VALUE}).")
    long seed = 7;

    @Option(names = "--variants", split = ",", defaultValue = "HIGH,MID,LOW:INT4,LOW:INT2,ROUTED:INT4,ROUTED:INT2,ROUTED:INT2:CAL",
            description = "Variants to run (default: ${DEFAULT-VALUE}).")
    List<String> variants = List.of();

    @Option(names = "--manage", defaultValue = "ALL", description = "Managed layers: ATTENTION, MLP, ALL (default: ${DEFAULT-VALUE}).")
    ManagedScope scope = ManagedScope.ALL;

    @Option(names = "--thresholds", split = ",", description = "Routing thresholds in bits LOW,HIGH (default: the model's preset).")
    @Nullable List<Float> thresholds;

    @Option(names = "--min-duration", description = "Routing: fewest steps in a gear before a normal shift.")
    @Nullable Integer minDuration;

    @Option(names = "--window", description = "Routing: rolling-window length of the smoothed entropy.")
    @Nullable Integer window;

    @Option(names = "--levels", split = ",", defaultValue = "TRIVIAL,EASY,MEDIUM,HARD",
            description = "Difficulty levels to score (default: ${DEFAULT-VALUE}).")
    List<DemoCorpus.Level> levels = List.of();

    @Option(names = "--initial-gear", description = "Routing: gear of the prompt and the first steps (default: the prompt classifier's).")
    @Nullable Gear initialGear;

    @Option(names = "--json", description = "Also write the results as JSON to this file.")
    @Nullable Path json;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Path path = model != null ? model : DemoModel.path();
        List<DemoCorpus.Exchange> items = DemoCorpus.evaluation(seed, perLevel).stream()
                .filter(e -> levels.contains(e.level())).toList();
        out.printf("model %s, %d exchanges per level (seed %d), managed %s%n", path.getFileName(), perLevel, seed, scope);
        out.printf("%-18s %7s %7s %7s %7s %9s %9s %9s   %s%n", "variant", "trivial", "easy", "medium", "hard",
                "H triv", "H math", "tok/s", "gear shares");
        List<Map<String, Object>> rows = new ArrayList<>();
        for (String v : variants) {
            Map<String, Object> row = run(path, v.trim().toUpperCase(Locale.ROOT), items);
            rows.add(row);
            @SuppressWarnings("unchecked")
            Map<String, Double> acc = (Map<String, Double>) row.get("accuracy");
            out.printf("%-18s %7s %7s %7s %7s %9.4f %9.4f %9.1f   %s%n", row.get("variant"),
                    percent(acc.get("trivial")), percent(acc.get("easy")), percent(acc.get("medium")), percent(acc.get("hard")),
                    row.get("entropyTrivial"), row.get("entropyMath"), row.get("tokensPerSecond"), row.get("gearShares"));
            out.flush();
        }
        if (json != null) {
            Map<String, Object> report = new LinkedHashMap<>();
            report.put("date", Instant.now().toString());
            report.put("model", path.getFileName().toString());
            report.put("perLevel", perLevel);
            report.put("managed", scope.name());
            report.put("results", rows);
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), report);
        }
        return 0;
    }

    private static String percent(@Nullable Double share) {
        return share == null ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * share);
    }

    private Map<String, Object> run(Path path, String variant, List<DemoCorpus.Exchange> items) {
        String[] parts = variant.split(":");
        boolean routed = parts[0].equals("ROUTED");
        // ROUTED:<low format>[:CAL][:ESC]
        List<String> flags = parts.length > 2 ? List.of(parts).subList(2, parts.length) : List.of();
        boolean calibrate = flags.contains("CAL");
        boolean escalate = flags.contains("ESC");
        GearConfig config;
        RoutingOptions routing;
        if (routed) {
            GearFormat low = parts.length > 1 ? GearFormat.valueOf(parts[1]) : GearFormat.NESTED_LOW;
            config = GearConfig.builder().scope(scope).format(Gear.LOW, low).build();
            RoutingOptions.Builder b = RoutingOptions.builder().calibrate(calibrate).escalate(escalate);
            if (thresholds != null) {
                b.thresholds(thresholds.get(0), thresholds.get(1));
            }
            if (minDuration != null) {
                b.minDuration(minDuration);
            }
            if (window != null) {
                b.window(window);
            }
            if (initialGear != null) {
                b.initialGear(initialGear);
            }
            routing = b.build();
        } else {
            GearVariant gv = GearVariant.parse(variant);
            config = gv.config(scope, 32);
            routing = RoutingOptions.pinned(gv.gear());
        }
        Map<String, int[]> score = new LinkedHashMap<>();
        double[] entropy = new double[2];
        long[] entropyCount = new long[2];
        EnumMap<Gear, Long> gearSteps = new EnumMap<>(Gear.class);
        long tokens = 0;
        long decodeNanos = 0;
        try (LlamaModel m = LlamaModel.load(path, Kernels.preferred(), config)) {
            Generator g = new Generator(m);
            for (DemoCorpus.Exchange e : items) {
                Generation gen = g.start(GenerationRequest.builder(e.prompt()).maxTokens(96).routing(routing).build());
                int trivial = e.level() == DemoCorpus.Level.TRIVIAL ? 0 : 1;
                while (gen.hasNext()) {
                    GeneratedToken t = gen.next();
                    entropy[trivial] += t.entropy();
                    entropyCount[trivial]++;
                    gearSteps.merge(t.gear(), 1L, Long::sum);
                }
                GenerationResult r = gen.result();
                tokens += r.tokenIds().length;
                decodeNanos += r.decodeNanos();
                boolean ok = e.level() == DemoCorpus.Level.TRIVIAL ? r.text().equals(e.completion())
                        : e.expected().equals(DemoCorpus.extractAnswer(r.text()));
                int[] s = score.computeIfAbsent(e.level().label(), k -> new int[2]);
                s[0] += ok ? 1 : 0;
                s[1]++;
            }
        }
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("variant", variant);
        Map<String, Double> acc = new LinkedHashMap<>();
        score.forEach((k, s) -> acc.put(k, s[0] / (double) s[1]));
        row.put("accuracy", acc);
        row.put("entropyTrivial", entropy[0] / Math.max(1, entropyCount[0]));
        row.put("entropyMath", entropy[1] / Math.max(1, entropyCount[1]));
        row.put("tokensPerSecond", decodeNanos == 0 ? 0.0 : tokens * 1e9 / decodeNanos);
        long total = gearSteps.values().stream().mapToLong(Long::longValue).sum();
        Map<String, Double> shares = new LinkedHashMap<>();
        gearSteps.forEach((gear, n) -> shares.put(gear.name(), Math.round(1000.0 * n / total) / 1000.0));
        row.put("gearShares", shares);
        return row;
    }
}
