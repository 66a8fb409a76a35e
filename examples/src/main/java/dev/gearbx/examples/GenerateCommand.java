package dev.gearbx.examples;

import dev.gearbx.demo.DemoModel;
import dev.gearbx.engine.generate.GenerationRequest;
import dev.gearbx.engine.generate.GenerationResult;
import dev.gearbx.engine.generate.Generator;
import dev.gearbx.engine.model.LlamaModel;
import dev.gearbx.engine.tensor.Kernels;
import dev.gearbx.engine.sampling.SamplingParams;
import java.io.PrintWriter;
import dev.gearbx.reactive.models.ModelNotFoundException;
import dev.gearbx.reactive.models.ModelReference;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** Streams a generation to standard output. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Stream a generation from a GGUF model to standard output.")
final class GenerateCommand implements Callable<Integer> {

    @Spec
    @SuppressWarnings("NullAway.Init")
    CommandSpec spec;

    @Option(names = {"-m", "--model"}, description = "GGUF model file, Hugging Face folder, or ollama:NAME[:TAG] from Ollama's local store (default: the embedded demo model).")
    @Nullable String model;

    @Option(names = {"-p", "--prompt"}, description = "Prompt text (default: a sum for the demo model, \"Once upon a time\" for any other).")
    @Nullable String prompt;

    @Option(names = {"-n", "--max-tokens"}, defaultValue = "256", description = "Most tokens to generate (default: ${DEFAULT-VALUE}).")
    int maxTokens = 256;

    @Option(names = {"-t", "--temperature"}, defaultValue = "0", description = "Sampling temperature; 0 is greedy (default: ${DEFAULT-VALUE}).")
    float temperature;

    @Option(names = "--top-k", defaultValue = "40", description = "Top-k filter, 0 = off (default: ${DEFAULT-VALUE}).")
    int topK = 40;

    @Option(names = "--top-p", defaultValue = "0.95", description = "Nucleus filter, 1 = off (default: ${DEFAULT-VALUE}).")
    float topP = 0.95f;

    @Option(names = "--min-p", defaultValue = "0.05", description = "Min-p filter, 0 = off (default: ${DEFAULT-VALUE}).")
    float minP = 0.05f;

    @Option(names = "--repeat-penalty", defaultValue = "1.0", description = "Repetition penalty, 1 = off (default: ${DEFAULT-VALUE}).")
    float repeatPenalty = 1f;

    @Option(names = {"-s", "--seed"}, description = "Random seed for sampling (default: random).")
    @Nullable Long seed;

    @picocli.CommandLine.ArgGroup(exclusive = false, heading = "Gears and routing:%n")
    @Nullable GearOptions gears;

    @Option(names = "--color", negatable = true, description = "Colour each token by its gear (default: when stdout is a terminal).")
    @Nullable Boolean color;

    @Option(names = "--stats", negatable = true, defaultValue = "true", description = "Print speed figures to stderr at the end (default: ${DEFAULT-VALUE}).")
    boolean stats = true;

    @Override
    public Integer call() {
        Path path;
        try {
            path = ModelReference.resolve(model != null ? model : ModelPaths.defaultModel().toString());
        } catch (ModelNotFoundException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage() + " (--model)");
        }
        SamplingParams sampling;
        if (temperature == 0) {
            sampling = SamplingParams.greedy();
        } else {
            SamplingParams.Builder b = SamplingParams.builder()
                    .temperature(temperature).topK(topK).topP(topP).minP(minP).repetitionPenalty(repeatPenalty);
            if (seed != null) {
                b.seed(seed);
            }
            sampling = b.build();
        }
        GearOptions g = model == null ? GearOptions.forDemoModel(gears, spec.commandLine().getParseResult())
                : gears != null ? gears : new GearOptions();
        String prompt = this.prompt != null ? this.prompt : model == null ? DemoModel.DEFAULT_PROMPT : "Once upon a time";
        GenerationRequest request = GenerationRequest.builder(prompt).maxTokens(maxTokens).sampling(sampling)
                .routing(g.routing()).build();
        PrintWriter out = spec.commandLine().getOut();
        boolean colored = color != null ? color : System.console() != null && System.console().isTerminal();
        try (LlamaModel m = LlamaModel.load(path, Kernels.preferred(), g.gearConfig())) {
            out.print(prompt);
            out.flush();
            GenerationResult r = new Generator(m).generate(request, token -> {
                out.print(colored ? GearColors.paint(token.gear(), token.text()) : token.text());
                out.flush();
                return true;
            });
            out.println();
            out.flush();
            if (stats) {
                PrintWriter err = spec.commandLine().getErr();
                err.printf("[%d prompt tokens, %d generated, %s; time to first token %.1f ms, decode %.1f tokens/s]%n",
                        r.promptTokens(), r.tokenIds().length, r.stopReason(),
                        r.timeToFirstTokenNanos() / 1e6, r.tokensPerSecond());
                err.printf("[gears %s, %d shifts%s%s]%n", GearColors.shares(r.gearShares(), colored), r.shifts(),
                        r.thresholds() == null ? "" : String.format(", thresholds %.2f/%.2f bits", r.thresholds().low(), r.thresholds().high()),
                        colored ? "; " + GearColors.legend() : "");
                err.flush();
            }
        }
        return 0;
    }
}
