package dev.gearbx.engine.generate;

import dev.gearbx.engine.model.CausalModel;
import java.util.Objects;

/**
 * The synchronous generation API: a prompt in, tokens out, either pulled one at a time through a
 * {@link Generation} or pushed to a {@link TokenListener}. One generator can serve any number of
 * generations, one after another or from several threads (each generation has its own state).
 *
 * <pre>{@code
 * try (LlamaModel model = LlamaModel.load(Path.of("stories260K.gguf"))) {
 *     GenerationResult r = new Generator(model).generate(
 *             GenerationRequest.builder("Once upon a time").maxTokens(32).build(),
 *             token -> { System.out.print(token.text()); return true; });
 * }
 * }</pre>
 */
public final class Generator {
    private final CausalModel model;

    /** A generator for {@code model}: the CPU {@link dev.gearbx.engine.model.LlamaModel} or another backend's. */
    public Generator(CausalModel model) {
        this.model = Objects.requireNonNull(model, "model");
    }

    public CausalModel model() {
        return model;
    }

    /** Starts a generation to be pulled token by token; close it when done. */
    public Generation start(GenerationRequest request) {
        return new Generation(model, request);
    }

    /** Runs a generation to the end, calling {@code listener} for each token (false stops it). */
    public GenerationResult generate(GenerationRequest request, TokenListener listener) {
        try (Generation g = start(request)) {
            while (g.hasNext()) {
                if (!listener.onToken(g.next())) {
                    g.close();
                    break;
                }
            }
            return g.result();
        }
    }

    /** Runs a generation to the end. */
    public GenerationResult generate(GenerationRequest request) {
        return generate(request, token -> true);
    }

    /**
     * Runs several prompts one after another with the same settings; each has its own KV cache and
     * its own routing state (monitor, policy, calibration), as if run alone.
     */
    public java.util.List<GenerationResult> generateBatch(java.util.List<String> prompts, GenerationRequest settings) {
        java.util.List<GenerationResult> results = new java.util.ArrayList<>(prompts.size());
        for (String prompt : prompts) {
            results.add(generate(settings.toBuilder().prompt(prompt).build()));
        }
        return results;
    }
}
