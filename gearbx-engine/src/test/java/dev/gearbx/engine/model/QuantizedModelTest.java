package dev.gearbx.engine.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gearbx.engine.generate.GenerationRequest;
import dev.gearbx.engine.generate.GenerationResult;
import dev.gearbx.engine.generate.Generator;
import dev.gearbx.engine.gguf.GgmlType;
import dev.gearbx.engine.gguf.GgufFile;
import dev.gearbx.engine.gguf.GgufTensorInfo;
import dev.gearbx.engine.testing.TestModels;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Models written with Q8_0 / Q4_0 matrices: synthetic ones, and stories260K re-encoded by {@link ModelQuantizer}. */
class QuantizedModelTest {
    @TempDir
    Path dir;

    private static final ModelShape TINY = new ModelShape("tiny", 64, 2, 4, 2, 96, 300, 64);

    @Test
    void syntheticQuantizedModelsLoadAndTrackTheirFloatTwin() {
        Path f32 = dir.resolve("f32.gguf");
        SyntheticModel.write(f32, TINY, GgmlType.F32, 5, 0.2f);
        float[] ref = lastLogits(f32);
        for (GgmlType type : new GgmlType[] {GgmlType.Q8_0, GgmlType.Q4_0}) {
            Path p = dir.resolve(type + ".gguf");
            SyntheticModel.write(p, TINY, type, 5, 0.2f);
            try (GgufFile g = GgufFile.open(p)) {
                assertEquals(type, g.tensor("blk.1.ffn_down.weight").type());
                assertEquals(type, g.tensor("token_embd.weight").type());
                assertEquals(GgmlType.F32, g.tensor("blk.0.attn_norm.weight").type());
            }
            double rel = relativeError(ref, lastLogits(p));
            // same random floats, quantized: Q8_0 is close; Q4_0 (~6% rms error per uniform weight, compounded over
            // a random network) is a loose sanity bound (measured ~0.32)
            assertTrue(rel < (type == GgmlType.Q8_0 ? 0.02 : 0.5), type + " relative logit error " + rel);
        }
    }

    @Test
    void syntheticKQuantModelsLoadAndTrackTheirFloatTwin() {
        ModelShape k = new ModelShape("k", 256, 1, 4, 2, 512, 300, 64);
        Path f32 = dir.resolve("kf32.gguf");
        SyntheticModel.write(f32, k, GgmlType.F32, 9, 0.2f);
        float[] ref = lastLogits(f32);
        double previous = 1;
        for (GgmlType type : new GgmlType[] {GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K}) {
            Path p = dir.resolve(type + ".gguf");
            SyntheticModel.write(p, k, type, 9, 0.2f);
            double rel = relativeError(ref, lastLogits(p));
            // more bits, closer to the float twin
            assertTrue(rel < previous, type + " relative logit error " + rel + " not below " + previous);
            previous = rel;
        }
    }

    /** ||logits - ref|| / ||ref||. */
    private static double relativeError(float[] ref, float[] logits) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < ref.length; i++) {
            num += (logits[i] - ref[i]) * (double) (logits[i] - ref[i]);
            den += ref[i] * (double) ref[i];
        }
        return Math.sqrt(num / den);
    }

    private static float[] lastLogits(Path p) {
        try (LlamaModel m = LlamaModel.load(p)) {
            LlamaState s = m.newState(8);
            float[] logits = null;
            for (int t : new int[] {1, 260, 270, 280}) {
                logits = m.forward(s, t).clone();
            }
            return logits;
        }
    }

    @Test
    void quantizerTellsItsProgressOncePerReencodedTensor() {
        java.util.List<int[]> calls = new java.util.ArrayList<>();
        ModelQuantizer.quantize(TestModels.stories260K(), dir.resolve("s-q8-progress.gguf"), GgmlType.Q8_0,
                (done, total) -> calls.add(new int[] {done, total}));
        try (GgufFile src = GgufFile.open(TestModels.stories260K())) {
            long reencoded = src.tensors().stream().filter(t -> ModelQuantizer.reencodes(t, GgmlType.Q8_0)).count();
            assertTrue(reencoded > 0);
            assertEquals(reencoded, calls.size());
            for (int i = 0; i < calls.size(); i++) {
                assertEquals(i + 1, calls.get(i)[0]);
                assertEquals(reencoded, calls.get(i)[1]);
            }
        }
    }

    @Test
    void quantizerReencodesOnlyMatricesAndUpdatesFileType() {
        Path q = dir.resolve("s-q8.gguf");
        ModelQuantizer.quantize(TestModels.stories260K(), q, GgmlType.Q8_0);
        try (GgufFile src = GgufFile.open(TestModels.stories260K()); GgufFile out = GgufFile.open(q)) {
            assertEquals(src.tensors().size(), out.tensors().size());
            int matrices = 0;
            for (GgufTensorInfo t : src.tensors()) {
                GgufTensorInfo o = out.tensor(t.name());
                assertEquals(t.rank(), o.rank(), t.name());
                if (t.rank() == 2 && t.dim(0) % 32 == 0) {
                    assertEquals(GgmlType.Q8_0, o.type(), t.name());
                    matrices++;
                } else {
                    // norms, and ffn_down (rows of 172, not a whole number of blocks): copied as they are
                    assertEquals(t.type(), o.type(), t.name());
                    assertEquals(-1L, src.tensorData(t).mismatch(out.tensorData(o)), t.name());
                }
            }
            assertEquals(2 + 5 * 6, matrices); // token_embd, output, per layer q k v o gate up
            for (String key : src.metadata().keys()) {
                if (!key.equals("general.file_type")) {
                    assertEquals(src.metadata().get(key), out.metadata().get(key), key);
                }
            }
            if (src.metadata().contains("general.file_type")) {
                assertEquals(7, out.metadata().getInt("general.file_type"));
            }
        }
    }

    @Test
    void stories260KQuantizedToQ8_0KeepsTheReferenceTokens() {
        int q8 = matchedReferenceTokens(GgmlType.Q8_0);
        int q4 = matchedReferenceTokens(GgmlType.Q4_0);
        System.out.println("stories260K greedy reference tokens matched (of 32): Q8_0 " + q8 + ", Q4_0 " + q4);
        assertTrue(q8 >= 16, "Q8_0 matched only " + q8 + " of the 32 reference tokens");
    }

    /** Length of the common prefix of the quantized model's 32 greedy tokens and the F32 reference. */
    private int matchedReferenceTokens(GgmlType type) {
        Path q = dir.resolve("stories260K-" + type + ".gguf");
        ModelQuantizer.quantize(TestModels.stories260K(), q, type);
        // the file's own (quantized) weights in every step: no gear formats on top
        try (LlamaModel model = LlamaModel.load(q, dev.gearbx.engine.tensor.Kernels.preferred(),
                dev.gearbx.engine.gear.GearConfig.NONE)) {
            GenerationResult r = new Generator(model).generate(GenerationRequest.builder("Once upon a time").maxTokens(32)
                    .routing(dev.gearbx.engine.routing.RoutingOptions.pinned(dev.gearbx.engine.gear.Gear.HIGH)).build());
            int[] ids = r.tokenIds();
            int n = 0;
            while (n < Math.min(ids.length, Stories260KReferenceTest.REFERENCE.length)
                    && ids[n] == Stories260KReferenceTest.REFERENCE[n]) {
                n++;
            }
            System.out.println(type + " tokens: " + java.util.Arrays.toString(ids));
            return n;
        }
    }
}
