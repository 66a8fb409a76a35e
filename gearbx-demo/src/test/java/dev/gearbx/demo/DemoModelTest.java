package dev.gearbx.demo;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.gear.GearConfig;
import dev.gearbx.engine.generate.GenerationRequest;
import dev.gearbx.engine.generate.GenerationResult;
import dev.gearbx.engine.generate.Generator;
import dev.gearbx.engine.gguf.GgufFile;
import dev.gearbx.engine.model.LlamaModel;
import dev.gearbx.engine.model.LlamaState;
import dev.gearbx.engine.routing.RoutingOptions;
import dev.gearbx.engine.tensor.Kernels;
import dev.gearbx.engine.tokenizer.Tokenizer;
import dev.gearbx.engine.tokenizer.Tokenizers;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class DemoModelTest {

    @Test
    void theEmbeddedModelIsCopiedOnceAndLoads() throws Exception {
        assertThat(DemoModel.isEmbedded()).isTrue();
        Path p = DemoModel.path();
        assertThat(p).isRegularFile();
        assertThat(Files.size(p)).isLessThanOrEqualTo(16L << 20);
        assertThat(DemoModel.path()).isEqualTo(p);
        try (GgufFile g = GgufFile.open(p)) {
            assertThat(g.metadata().getString("general.architecture")).isEqualTo("llama");
            // the model states its own routing thresholds; the engine prefers them to a family preset
            assertThat(dev.gearbx.engine.routing.Thresholds.forModel(g.metadata(), DemoVocabulary.SIZE))
                    .isEqualTo(new dev.gearbx.engine.routing.Thresholds(0.1f, 0.5f));
        }
    }

    @Test
    void theModelsTokenizerIsTheDemoVocabulary() {
        try (GgufFile g = GgufFile.open(DemoModel.path())) {
            Tokenizer fromFile = Tokenizers.fromGguf(g.metadata());
            Tokenizer own = DemoVocabulary.tokenizer();
            assertThat(fromFile.vocabularySize()).isEqualTo(DemoVocabulary.SIZE);
            for (DemoCorpus.Exchange e : DemoCorpus.evaluation(11, 25)) {
                int[] ids = own.encode(e.document(), true, false);
                assertThat(fromFile.encode(e.document(), true, false)).isEqualTo(ids);
                // one token per character (plus BOS and the leading space mark)
                assertThat(ids).hasSize(e.document().length() + 2);
                assertThat(own.decode(ids)).isEqualTo(" " + e.document());
            }
        }
    }

    /** gearbx's forward pass against PyTorch's (fp32 logits the training script recorded for one prompt). */
    @Test
    void logitsMatchTheTrainingFrameworks() throws Exception {
        JsonNode ref;
        try (InputStream in = DemoModelTest.class.getResourceAsStream("reference.json")) {
            ref = new ObjectMapper().readTree(in);
        }
        int[] ids = new ObjectMapper().convertValue(ref.get("prompt_ids"), int[].class);
        float[] expected = new ObjectMapper().convertValue(ref.get("last_logits"), float[].class);
        try (LlamaModel m = LlamaModel.load(DemoModel.path(), Kernels.scalar(), GearConfig.NONE)) {
            LlamaState s = m.newState(ids.length);
            float[] logits = null;
            for (int id : ids) {
                logits = m.forward(s, id);
            }
            assertThat(logits).hasSize(expected.length);
            double maxErr = 0;
            double maxAbs = 0;
            for (int i = 0; i < expected.length; i++) {
                maxErr = Math.max(maxErr, Math.abs(logits[i] - expected[i]));
                maxAbs = Math.max(maxAbs, Math.abs(expected[i]));
            }
            // the same fp16 weights in fp32 arithmetic: differences come from summation order only
            assertThat(maxErr).isLessThan(1e-3 * Math.max(1, maxAbs));
        }
    }

    @Test
    void answersTheReadmePromptAtFullPrecision() {
        try (LlamaModel m = LlamaModel.load(DemoModel.path(), Kernels.preferred(), GearConfig.NONE)) {
            GenerationResult r = new Generator(m).generate(GenerationRequest.builder(DemoModel.DEFAULT_PROMPT)
                    .maxTokens(80).routing(RoutingOptions.pinned(Gear.HIGH)).build());
            assertThat(r.text()).isEqualTo(" Adding them up: 347 + 128 = 475. Hope that helps!\n");
        }
    }

    @Test
    void answersEasyQuestionsAtFullPrecision() {
        List<DemoCorpus.Exchange> easy = DemoCorpus.evaluation(21, 10).stream()
                .filter(e -> e.level() == DemoCorpus.Level.EASY).toList();
        try (LlamaModel m = LlamaModel.load(DemoModel.path(), Kernels.preferred(), GearConfig.NONE)) {
            Generator g = new Generator(m);
            for (DemoCorpus.Exchange e : easy) {
                GenerationResult r = g.generate(GenerationRequest.builder(e.prompt()).maxTokens(80)
                        .routing(RoutingOptions.pinned(Gear.HIGH)).build());
                assertThat(r.text()).as(e.prompt()).isEqualTo(e.completion());
            }
        }
    }
}
