package dev.gearbx.examples;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.gear.GearConfig;
import dev.gearbx.engine.gear.ManagedScope;
import dev.gearbx.engine.generate.GenerationRequest;
import dev.gearbx.engine.generate.Generator;
import dev.gearbx.engine.model.LlamaModel;
import dev.gearbx.engine.model.LlamaState;
import dev.gearbx.engine.routing.RoutingOptions;
import dev.gearbx.engine.tensor.Kernels;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
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
 * Quality of each gear against full precision: greedy text is generated at HIGH from several
 * prompts, then every gear variant reads the same tokens (teacher forcing) and its next-token
 * distributions are compared with HIGH's: mean KL divergence KL(P_high || P_gear) in nats and top-1
 * agreement, over every generated position.
 */
@Command(name = "quality", mixinStandardHelpOptions = true,
        description = "KL divergence and top-1 agreement of each gear against full precision.")
final class QualityCommand implements Callable<Integer> {

    @Spec
    @SuppressWarnings("NullAway.Init")
    CommandSpec spec;

    @Option(names = {"-m", "--model"}, description = "GGUF model (default: the TinyStories model in ../shared/models).")
    @Nullable String model;

    @Option(names = "--prompts", split = "\\|", defaultValue = "Once upon a time|Tom and his dog|The little bird|One day, Lily|Sam wanted a",
            description = "Prompts separated by | (default: ${DEFAULT-VALUE}).")
    List<String> prompts = List.of();

    @Option(names = "--tokens", defaultValue = "110", description = "Tokens generated per prompt (default: ${DEFAULT-VALUE}).")
    int tokens = 110;

    @Option(names = "--variants", split = ",", defaultValue = "MID,LOW,MID:INT8,MID:INT6,LOW:INT4,LOW:INT2",
            description = "Gear variants GEAR[:FORMAT] (default: ${DEFAULT-VALUE}).")
    List<String> variants = List.of();

    @Option(names = "--manage", defaultValue = "ALL", description = "Managed layers: ATTENTION, MLP, ALL (default: ${DEFAULT-VALUE}).")
    ManagedScope scope = ManagedScope.ALL;

    @Option(names = "--group-size", defaultValue = "32", description = "Weights per scale (default: ${DEFAULT-VALUE}).")
    int groupSize = 32;

    @Option(names = "--json", description = "Also write the results as JSON to this file.")
    @Nullable Path json;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Path path = dev.gearbx.reactive.models.ModelReference.resolve(model != null ? model : ModelPaths.defaultModel().toString());
        // 1. reference text and distributions at full precision
        List<int[]> sequences = new ArrayList<>();
        List<Integer> starts = new ArrayList<>();
        List<float[][]> reference = new ArrayList<>();
        try (LlamaModel m = LlamaModel.load(path, Kernels.preferred(), GearConfig.NONE)) {
            Generator g = new Generator(m);
            for (String p : prompts) {
                var gen = g.start(GenerationRequest.builder(p).maxTokens(tokens).stopAtEndOfGeneration(false)
                        .routing(RoutingOptions.pinned(Gear.HIGH)).build());
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
                reference.add(distributions(m, seq, prompt.length - 1, Gear.HIGH));
            }
        }
        int positions = reference.stream().mapToInt(r -> r.length).sum();
        out.printf("model %s, %d prompts, %d positions compared (managed: %s, group %d)%n", path.getFileName(),
                prompts.size(), positions, scope, groupSize);
        out.printf("%-16s %14s %12s%n", "gear", "mean KL (nats)", "top-1 agree");
        List<Map<String, Object>> rows = new ArrayList<>();
        // 2. every variant reads the same tokens
        for (String v : variants) {
            GearVariant variant = GearVariant.parse(v);
            double kl = 0;
            int agree = 0;
            try (LlamaModel m = LlamaModel.load(path, Kernels.preferred(), variant.config(scope, groupSize))) {
                for (int s = 0; s < sequences.size(); s++) {
                    float[][] q = distributions(m, sequences.get(s), starts.get(s), variant.gear());
                    float[][] p = reference.get(s);
                    for (int i = 0; i < p.length; i++) {
                        kl += klDivergence(p[i], q[i]);
                        agree += argmax(p[i]) == argmax(q[i]) ? 1 : 0;
                    }
                }
            }
            double meanKl = kl / positions;
            double top1 = agree / (double) positions;
            out.printf("%-16s %14.5f %11.1f%%%n", variant.label(), meanKl, 100 * top1);
            out.flush();
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("gear", variant.label());
            row.put("meanKlNats", meanKl);
            row.put("top1Agreement", top1);
            row.put("positions", positions);
            rows.add(row);
        }
        if (json != null) {
            Map<String, Object> report = new LinkedHashMap<>();
            report.put("date", Instant.now().toString());
            report.put("model", path.getFileName().toString());
            report.put("results", rows);
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), report);
        }
        return 0;
    }

    /** Softmax distributions after each position from {@code from} on (teacher forcing {@code seq}). */
    private static float[][] distributions(LlamaModel m, int[] seq, int from, Gear gear) {
        LlamaState s = m.newState(seq.length);
        s.shift(gear);
        float[][] out = new float[seq.length - 1 - from][];
        for (int i = 0; i < seq.length - 1; i++) {
            float[] logits = m.forward(s, seq[i]);
            if (i >= from) {
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
}
