package dev.gearbx.reactive;

import dev.gearbx.engine.gear.GearConfig;
import dev.gearbx.engine.generate.Generation;
import dev.gearbx.engine.generate.GenerationRequest;
import dev.gearbx.engine.generate.Generator;
import dev.gearbx.engine.gguf.GgmlType;
import dev.gearbx.engine.model.LlamaModel;
import dev.gearbx.engine.model.ModelShape;
import dev.gearbx.engine.model.SyntheticModel;
import dev.gearbx.engine.sampling.SamplingParams;
import dev.gearbx.engine.tensor.Kernels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;

/**
 * Not a test: the reactive layer's overhead against the engine's synchronous loop, same model file,
 * same settings, same run. Prints tokens/s medians.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp ... \
 *     dev.gearbx.reactive.ReactiveOverheadBench [runs]
 * </pre>
 */
public final class ReactiveOverheadBench {
    private ReactiveOverheadBench() {}

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 7;
        Path synthetic = Path.of("/tmp/bench-models/synthetic-110m-f16.gguf");
        if (!Files.isRegularFile(synthetic)) {
            Files.createDirectories(synthetic.getParent());
            SyntheticModel.write(synthetic, new ModelShape("m", 768, 12, 12, 12, 2048, 32000, 1024), GgmlType.F16, 7, 0.02f);
        }
        System.out.printf("%-24s %7s %12s %12s %12s %9s%n", "model", "tokens", "engine tok/s", "flux tok/s",
                "flux 1-by-1", "overhead");
        bench("stories260K", ReactiveModels.stories260K(), 256, runs);
        bench("synthetic-110m-f16", synthetic, 48, Math.max(3, runs / 2));
    }

    static void bench(String label, Path file, int tokens, int runs) {
        GearConfig gears = GearConfig.DEFAULT;
        GenerationRequest engineRequest = GenerationRequest.builder("Once upon a time").maxTokens(tokens)
                .stopAtEndOfGeneration(false).sampling(SamplingParams.greedy()).routing(Gearbx.DEFAULT_ROUTING).build();
        StreamOptions options = StreamOptions.builder().maxTokens(tokens).stopAtEndOfGeneration(false).build();
        try (LlamaModel engine = LlamaModel.load(file, Kernels.preferred(), gears);
                GearbxModel reactive = Gearbx.builder().model(file).gears(gears).computeThreads(1).build()) {
            Generator generator = new Generator(engine);
            List<Double> sync = new ArrayList<>();
            List<Double> flux = new ArrayList<>();
            List<Double> oneByOne = new ArrayList<>();
            for (int i = 0; i < runs + 1; i++) { // first round is warm-up (lazy quantization, JIT)
                double a = engineTokensPerSecond(generator, engineRequest);
                double b = fluxTokensPerSecond(reactive, options, Long.MAX_VALUE);
                double c = fluxTokensPerSecond(reactive, options, 1);
                if (i > 0) {
                    sync.add(a);
                    flux.add(b);
                    oneByOne.add(c);
                }
            }
            double s = median(sync);
            double f = median(flux);
            double o = median(oneByOne);
            System.out.printf("%-24s %7d %12.1f %12.1f %12.1f %8.2f%%%n", label, tokens, s, f, o, 100 * (s - f) / s);
        }
    }

    static double engineTokensPerSecond(Generator generator, GenerationRequest request) {
        long t0 = System.nanoTime();
        int n = 0;
        try (Generation g = generator.start(request)) {
            while (g.hasNext()) {
                g.next();
                n++;
            }
        }
        return n * 1e9 / (System.nanoTime() - t0);
    }

    /** Whole generation, wall clock, with {@code batch} = demand per request (Long.MAX_VALUE: unbounded). */
    static double fluxTokensPerSecond(GearbxModel model, StreamOptions options, long batch) {
        long t0 = System.nanoTime();
        int[] n = new int[1];
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
        model.stream("Once upon a time", options).subscribe(new BaseSubscriber<StreamChunk>() {
            @Override
            protected void hookOnSubscribe(Subscription s) {
                request(batch);
            }

            @Override
            protected void hookOnNext(StreamChunk chunk) {
                n[0]++;
                if (batch != Long.MAX_VALUE) {
                    request(batch);
                }
            }

            @Override
            protected void hookFinally(reactor.core.publisher.SignalType type) {
                done.countDown();
            }
        });
        try {
            done.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return n[0] * 1e9 / (System.nanoTime() - t0);
    }

    static double median(List<Double> xs) {
        double[] a = xs.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(a);
        return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }
}
