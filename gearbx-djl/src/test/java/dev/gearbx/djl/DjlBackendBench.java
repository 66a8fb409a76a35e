package dev.gearbx.djl;

import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.generate.GenerationRequest;
import dev.gearbx.engine.generate.GenerationResult;
import dev.gearbx.engine.generate.Generator;
import dev.gearbx.engine.gguf.GgmlType;
import dev.gearbx.engine.model.CausalModel;
import dev.gearbx.engine.model.LlamaModel;
import dev.gearbx.engine.model.ModelShape;
import dev.gearbx.engine.model.SyntheticModel;
import dev.gearbx.engine.routing.RoutingOptions;
import dev.gearbx.engine.tensor.Kernels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Not a test: decode tokens/s of the DJL PyTorch backend beside the CPU backend on the synthetic
 * 110m shape ({@link ModelShape#M110}, F32 weights, pinned HIGH, greedy), the same model file in the
 * same JVM, rounds alternating; prints medians and ranges.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx6g -cp ... \
 *     dev.gearbx.djl.DjlBackendBench [runs] [tokens]
 * </pre>
 */
public final class DjlBackendBench {
    private DjlBackendBench() {}

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int tokens = args.length > 1 ? Integer.parseInt(args[1]) : 32;
        Path file = Path.of("/tmp/bench-models/synthetic-110m-f32.gguf");
        if (!Files.isRegularFile(file)) {
            Files.createDirectories(file.getParent());
            SyntheticModel.write(file, ModelShape.M110, GgmlType.F32, 7, 0.02f);
        }
        try (LlamaModel cpu = LlamaModel.load(file, Kernels.preferred()); DjlLlamaModel djl = DjlLlamaModel.load(file)) {
            System.out.println("DJL device " + djl.device() + ", " + Runtime.getRuntime().availableProcessors() + " CPUs");
            double[] cpuRates = new double[runs];
            double[] djlRates = new double[runs];
            run(cpu, tokens); // warm-up
            run(djl, tokens);
            for (int i = 0; i < runs; i++) {
                cpuRates[i] = run(cpu, tokens);
                djlRates[i] = run(djl, tokens);
                System.out.printf("round %d: cpu %.2f tok/s, djl %.2f tok/s%n", i + 1, cpuRates[i], djlRates[i]);
            }
            System.out.printf("median cpu %.2f [%.2f..%.2f], djl %.2f [%.2f..%.2f] tok/s%n", median(cpuRates),
                    min(cpuRates), max(cpuRates), median(djlRates), min(djlRates), max(djlRates));
        }
    }

    private static double run(CausalModel m, int tokens) {
        GenerationResult r = new Generator(m).generate(GenerationRequest.builder("Once upon a time").maxTokens(tokens)
                .stopAtEndOfGeneration(false).routing(RoutingOptions.pinned(Gear.HIGH)).build());
        return r.tokensPerSecond();
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static double min(double[] v) {
        return Arrays.stream(v).min().orElse(Double.NaN);
    }

    private static double max(double[] v) {
        return Arrays.stream(v).max().orElse(Double.NaN);
    }
}
