package dev.gearbx.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.gear.GearConfig;
import dev.gearbx.engine.gear.ManagedScope;
import dev.gearbx.engine.generate.GenerationRequest;
import dev.gearbx.engine.generate.GenerationResult;
import dev.gearbx.engine.generate.Generator;
import dev.gearbx.engine.gguf.GgmlType;
import dev.gearbx.engine.hf.HfConverter;
import dev.gearbx.engine.model.CausalModel;
import dev.gearbx.engine.model.LlamaModel;
import dev.gearbx.engine.model.ModelSequence;
import dev.gearbx.engine.model.ModelShape;
import dev.gearbx.engine.model.SyntheticModel;
import dev.gearbx.engine.routing.RoutingOptions;
import dev.gearbx.engine.tensor.Kernels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The libtorch forward pass against gearbx's CPU engine: stories260K as GGUF (interleaved RoPE) and
 * converted by gearbx to a Hugging Face folder (rotate-half RoPE), and a synthetic GQA model; float32
 * logits within 1e-4 relative at every step, the same greedy tokens, and the same at each gear.
 */
class DjlForwardDifferentialTest {
    static final int[] REFERENCE = {432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337,
        410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426, 385, 328, 432, 358, 394};
    static final ModelShape SMALL = new ModelShape("small-gqa", 128, 3, 8, 2, 256, 1024, 128);

    static Path stories260K() {
        Path p = Path.of(System.getProperty("gearbx.models", "../shared/models")).resolve("stories260K.gguf");
        if (!Files.isRegularFile(p)) {
            throw new IllegalStateException("test model " + p.toAbsolutePath() + " is missing; set -Dgearbx.models");
        }
        return p;
    }

    static synchronized Path stories260KFolder() throws IOException {
        Path dir = Path.of("target", "djl-fixtures", "stories260K");
        if (!Files.isRegularFile(dir.resolve("config.json"))) {
            Files.createDirectories(dir);
            HfConverter.toHuggingFace(stories260K(), dir, Long.MAX_VALUE);
        }
        return dir;
    }

    static synchronized Path synthetic() throws IOException {
        Path file = Path.of("target", "djl-fixtures", "small-gqa-f32.gguf");
        if (!Files.isRegularFile(file)) {
            Files.createDirectories(file.getParent());
            SyntheticModel.write(file, SMALL, GgmlType.F32, 3, 0.15f);
        }
        return file;
    }

    /** Feeds the same tokens to both models, comparing the logits of every step. */
    static void assertSameLogits(CausalModel cpu, CausalModel djl, int[] tokens, Gear gear) {
        try (ModelSequence a = cpu.newSequence(tokens.length); ModelSequence b = djl.newSequence(tokens.length)) {
            a.shift(gear);
            b.shift(gear);
            for (int i = 0; i < tokens.length; i++) {
                float[] la = a.forward(tokens[i]).clone();
                float[] lb = b.forward(tokens[i]);
                double rel = relativeError(la, lb);
                assertTrue(rel < 1e-4, gear + ": relative logit error " + rel + " at step " + i);
            }
        }
    }

    static double relativeError(float[] ref, float[] logits) {
        assertEquals(ref.length, logits.length);
        double num = 0;
        double den = 0;
        for (int i = 0; i < ref.length; i++) {
            num += (logits[i] - ref[i]) * (double) (logits[i] - ref[i]);
            den += ref[i] * (double) ref[i];
        }
        return Math.sqrt(num / den);
    }

    static GenerationResult greedy(CausalModel m, Gear gear) {
        return greedy(m, gear, 32);
    }

    static GenerationResult greedy(CausalModel m, Gear gear, int tokens) {
        return new Generator(m).generate(GenerationRequest.builder("Once upon a time").maxTokens(tokens)
                .routing(RoutingOptions.pinned(gear)).build());
    }

    @Test
    void stories260KGgufAndFolderMatchTheCpuEngine() throws IOException {
        int[] tokens = {1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 0, 511, 2};
        try (LlamaModel cpu = LlamaModel.load(stories260K(), Kernels.scalar());
                DjlLlamaModel gguf = DjlLlamaModel.load(stories260K());
                DjlLlamaModel folder = DjlLlamaModel.load(stories260KFolder())) {
            assertSameLogits(cpu, gguf, tokens, Gear.HIGH);
            assertSameLogits(cpu, folder, tokens, Gear.HIGH);
            assertArrayEquals(REFERENCE, greedy(gguf, Gear.HIGH).tokenIds());
            assertArrayEquals(REFERENCE, greedy(folder, Gear.HIGH).tokenIds());
        }
    }

    @Test
    void syntheticModelMatchesAtEveryGear() throws IOException {
        GearConfig all = GearConfig.builder().scope(ManagedScope.ALL).build();
        int[] tokens = new int[12];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = (i * 337 + 11) % SMALL.vocabularySize();
        }
        try (LlamaModel cpu = LlamaModel.load(synthetic(), Kernels.scalar(), all);
                DjlLlamaModel djl = DjlLlamaModel.load(synthetic(), all)) {
            for (Gear g : Gear.values()) {
                assertSameLogits(cpu, djl, tokens, g);
            }
            // the gears really differ: LOW is not HIGH
            try (ModelSequence high = djl.newSequence(2); ModelSequence low = djl.newSequence(2)) {
                low.shift(Gear.LOW);
                assertTrue(relativeError(high.forward(5).clone(), low.forward(5)) > 1e-3, "LOW weights differ from HIGH");
            }
            assertArrayEquals(greedy(cpu, Gear.LOW, 12).tokenIds(), greedy(djl, Gear.LOW, 12).tokenIds(), "greedy tokens at LOW");
        }
    }
}
