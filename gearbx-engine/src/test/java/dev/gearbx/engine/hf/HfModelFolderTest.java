package dev.gearbx.engine.hf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.generate.GenerationRequest;
import dev.gearbx.engine.generate.GenerationResult;
import dev.gearbx.engine.generate.Generator;
import dev.gearbx.engine.gguf.GgufFile;
import dev.gearbx.engine.gguf.GgufTensorInfo;
import dev.gearbx.engine.model.LlamaModel;
import dev.gearbx.engine.model.LlamaState;
import dev.gearbx.engine.model.RopeType;
import dev.gearbx.engine.routing.RoutingOptions;
import dev.gearbx.engine.testing.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hugging Face folders through the same model API as GGUF: stories260K exported by gearbx (Q/K
 * rows un-permuted, so the folder's RoPE is the rotate-half one) computes what the GGUF computes;
 * sharded and single-file folders agree; folder to GGUF gives back the original tensors bit for bit.
 */
class HfModelFolderTest {
    static final int[] PROMPT = {1, 403, 407, 261, 378};
    static final int[] REFERENCE = {432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337,
        410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426, 385, 328, 432, 358, 394};

    @TempDir
    Path tmp;

    @Test
    void stories260KFolderHasTheFilesAndLayout() {
        Path dir = HfFixtures.stories260K();
        for (String f : new String[] {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"}) {
            assertTrue(Files.isRegularFile(dir.resolve(f)), f);
        }
        try (HfModelFolder hf = HfModelFolder.open(dir)) {
            assertTrue(hf.halfRotationLayout());
            assertEquals("llama", hf.metadata().getString("general.architecture"));
            assertEquals(4, hf.metadata().getInt("llama.attention.head_count_kv"));
            assertTrue(hf.findTensor("output.weight").isPresent(), "stories260K.gguf has its own output.weight");
            GgufTensorInfo q = hf.findTensor("blk.0.attn_q.weight").orElseThrow();
            assertArrayEquals(new long[] {64, 64}, q.shape());
        }
    }

    @Test
    void folderLogitsMatchTheGgufAndGreedyTextIsTheReference() {
        try (LlamaModel gguf = LlamaModel.load(TestModels.stories260K());
                LlamaModel hf = LlamaModel.load(HfFixtures.stories260K())) {
            assertEquals(RopeType.INTERLEAVED, gguf.config().ropeType());
            assertEquals(RopeType.NEOX, hf.config().ropeType());
            assertEquals(gguf.config().withRopeType(RopeType.NEOX).vocabularySize(), hf.config().vocabularySize());
            assertArrayEquals(PROMPT, hf.tokenizer().encode("Once upon a time"));
            LlamaState a = gguf.newState(64);
            LlamaState b = hf.newState(64);
            for (int t : new int[] {1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 5, 511, 0, 300}) {
                float[] la = gguf.forward(a, t).clone();
                float[] lb = hf.forward(b, t);
                double rel = HfFixtures.relativeError(la, lb);
                assertTrue(rel < 1e-4, "relative logit error " + rel + " after token " + t);
            }
            GenerationResult r = new Generator(hf).generate(GenerationRequest.builder("Once upon a time").maxTokens(32)
                    .routing(RoutingOptions.pinned(Gear.HIGH)).build());
            assertArrayEquals(REFERENCE, r.tokenIds());
        }
    }

    @Test
    void shardedFolderEqualsTheSingleFile() {
        Path sharded = HfFixtures.stories260KSharded();
        assertTrue(Files.isRegularFile(sharded.resolve(HfModelFolder.INDEX)));
        assertFalse(Files.exists(sharded.resolve(HfModelFolder.SINGLE)));
        try (HfModelFolder s = HfModelFolder.open(sharded); HfModelFolder one = HfModelFolder.open(HfFixtures.stories260K())) {
            assertTrue(s.shards().size() >= 3, s.shards().size() + " shards");
            assertEquals(one.tensors().size(), s.tensors().size());
            for (GgufTensorInfo t : one.tensors()) {
                assertEquals(-1, one.tensorData(t).mismatch(s.tensorData(s.findTensor(t.name()).orElseThrow())), t.name());
            }
        }
        try (LlamaModel a = LlamaModel.load(HfFixtures.stories260K()); LlamaModel b = LlamaModel.load(sharded)) {
            assertArrayEquals(a.forward(a.newState(4), 1).clone(), b.forward(b.newState(4), 1));
        }
    }

    @Test
    void folderToGgufGivesBackTheOriginalTensors() {
        Path back = tmp.resolve("back.gguf");
        HfConverter.toGguf(HfFixtures.stories260K(), back);
        try (GgufFile original = GgufFile.open(TestModels.stories260K()); GgufFile converted = GgufFile.open(back)) {
            assertEquals(original.tensors().size(), converted.tensors().size());
            for (GgufTensorInfo t : original.tensors()) {
                GgufTensorInfo c = converted.findTensor(t.name()).orElseThrow(() -> new AssertionError(t.name()));
                assertArrayEquals(t.shape(), c.shape(), t.name());
                assertEquals(t.type(), c.type(), t.name());
                assertEquals(-1, original.tensorData(t).mismatch(converted.tensorData(c)), t.name() + " differs");
            }
            assertArrayEquals(original.metadata().getStringArray("tokenizer.ggml.tokens"),
                    converted.metadata().getStringArray("tokenizer.ggml.tokens"));
            assertEquals(original.metadata().getInt("llama.feed_forward_length"), converted.metadata().getInt("llama.feed_forward_length"));
        }
        try (LlamaModel a = LlamaModel.load(TestModels.stories260K()); LlamaModel b = LlamaModel.load(back)) {
            assertArrayEquals(a.forward(a.newState(4), 1).clone(), b.forward(b.newState(4), 1));
            assertArrayEquals(a.tokenizer().encode("Once upon a time"), b.tokenizer().encode("Once upon a time"));
        }
    }

    @Test
    void qwen2FolderWithBiasesMatchesItsGguf() {
        try (LlamaModel gguf = LlamaModel.load(HfFixtures.qwen2Gguf()); LlamaModel hf = LlamaModel.load(HfFixtures.qwen2Folder())) {
            assertEquals("qwen2", hf.config().architecture());
            assertTrue(hf.config().attentionBias());
            assertTrue(hf.weights().layers()[1].bk() != null);
            LlamaState a = gguf.newState(16);
            LlamaState b = hf.newState(16);
            for (int t : new int[] {1, 299, 17, 260, 42, 5, 99}) {
                assertArrayEquals(gguf.forward(a, t).clone(), hf.forward(b, t), "after token " + t);
            }
        }
        Path back = tmp.resolve("qwen2-back.gguf");
        HfConverter.toGguf(HfFixtures.qwen2Folder(), back);
        try (GgufFile original = GgufFile.open(HfFixtures.qwen2Gguf()); GgufFile converted = GgufFile.open(back)) {
            for (GgufTensorInfo t : original.tensors()) {
                GgufTensorInfo c = converted.findTensor(t.name()).orElseThrow(() -> new AssertionError(t.name()));
                assertEquals(-1, original.tensorData(t).mismatch(converted.tensorData(c)), t.name() + " differs");
            }
        }
    }

    /**
     * stories260K's output matrix is an exact copy of its embedding: a folder without lm_head.weight
     * (tie_word_embeddings) must compute the same logits as the GGUF with its own output.weight.
     */
    @Test
    void tiedEmbeddingsWithoutLmHead() throws java.io.IOException {
        Path src = HfFixtures.stories260K();
        Path tied = tmp.resolve("tied");
        Files.createDirectories(tied);
        for (String f : new String[] {"tokenizer.json", "tokenizer_config.json"}) {
            Files.copy(src.resolve(f), tied.resolve(f));
        }
        Files.writeString(tied.resolve("config.json"),
                Files.readString(src.resolve("config.json")).replace("\"tie_word_embeddings\" : false", "\"tie_word_embeddings\" : true"));
        try (SafetensorsFile st = SafetensorsFile.open(src.resolve(HfModelFolder.SINGLE))) {
            SafetensorsWriter w = new SafetensorsWriter();
            for (SafetensorsTensor t : st.tensors()) {
                if (!t.name().equals("lm_head.weight")) {
                    w.tensor(t.name(), t.dtype(), t.shape(), st.data(t));
                }
            }
            w.write(tied.resolve(HfModelFolder.SINGLE));
        }
        try (LlamaModel gguf = LlamaModel.load(TestModels.stories260K()); LlamaModel hf = LlamaModel.load(tied)) {
            assertTrue(hf.weights().output() == hf.weights().tokenEmbedding(), "tied: the output is the embedding");
            LlamaState a = gguf.newState(8);
            LlamaState b = hf.newState(8);
            for (int t : PROMPT) {
                double rel = HfFixtures.relativeError(gguf.forward(a, t).clone(), hf.forward(b, t));
                assertTrue(rel < 1e-4, "relative logit error " + rel);
            }
        }
    }

    /** F16 and BF16 weights stay F16 and BF16 in the safetensors and compute what the GGUF computes. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(value = dev.gearbx.engine.gguf.GgmlType.class, names = {"F16", "BF16"})
    void halfPrecisionFoldersKeepTheirType(dev.gearbx.engine.gguf.GgmlType type) {
        Path gguf = tmp.resolve("tiny-" + type + ".gguf");
        dev.gearbx.engine.model.SyntheticModel.write(gguf, HfFixtures.TINY, type, 9, 0.3f);
        Path folder = tmp.resolve("tiny-" + type);
        HfConverter.toHuggingFace(gguf, folder, Long.MAX_VALUE);
        try (SafetensorsFile st = SafetensorsFile.open(folder.resolve(HfModelFolder.SINGLE))) {
            assertEquals(SafetensorsDType.valueOf(type.name()), st.tensor("model.layers.1.mlp.up_proj.weight").dtype());
            assertEquals(SafetensorsDType.F32, st.tensor("model.norm.weight").dtype());
        }
        try (LlamaModel a = LlamaModel.load(gguf); LlamaModel b = LlamaModel.load(folder)) {
            assertEquals(type, b.weights().layers()[0].wq().original().type());
            LlamaState sa = a.newState(8);
            LlamaState sb = b.newState(8);
            for (int t : new int[] {1, 299, 17, 260, 42}) {
                double rel = HfFixtures.relativeError(a.forward(sa, t).clone(), b.forward(sb, t));
                assertTrue(rel < 1e-4, type + ": relative logit error " + rel);
            }
        }
    }
}
