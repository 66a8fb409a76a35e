package dev.gearbx.engine.hf;

import dev.gearbx.engine.gguf.GgmlType;
import dev.gearbx.engine.gguf.GgufFile;
import dev.gearbx.engine.gguf.GgufTensorInfo;
import dev.gearbx.engine.gguf.GgufValue;
import dev.gearbx.engine.gguf.GgufWriter;
import dev.gearbx.engine.model.ModelShape;
import dev.gearbx.engine.model.SyntheticModel;
import dev.gearbx.engine.testing.TestModels;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.Stream;

/**
 * Hugging Face folders made at test time under {@code target/hf-fixtures} by gearbx's own
 * exporter (never committed): stories260K, the same in shards, and a small synthetic qwen2.
 */
final class HfFixtures {
    static final Path ROOT = Path.of("target", "hf-fixtures");
    static final ModelShape TINY = new ModelShape("tiny", 64, 2, 4, 2, 96, 300, 64);

    private HfFixtures() {}

    /** stories260K.gguf exported as one model.safetensors. */
    static synchronized Path stories260K() {
        Path dir = ROOT.resolve("stories260K");
        if (!Files.isRegularFile(dir.resolve("config.json"))) {
            fresh(dir);
            HfConverter.toHuggingFace(TestModels.stories260K(), dir, Long.MAX_VALUE);
        }
        return dir;
    }

    /** stories260K.gguf exported in shards of at most 300 KB. */
    static synchronized Path stories260KSharded() {
        Path dir = ROOT.resolve("stories260K-sharded");
        if (!Files.isRegularFile(dir.resolve("config.json"))) {
            fresh(dir);
            HfConverter.toHuggingFace(TestModels.stories260K(), dir, 300_000);
        }
        return dir;
    }

    /** A synthetic qwen2 GGUF (random weights and q/k/v biases, F32). */
    static synchronized Path qwen2Gguf() {
        Path file = ROOT.resolve("qwen2-tiny.gguf");
        if (!Files.isRegularFile(file)) {
            try {
                Files.createDirectories(ROOT);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Path llama = ROOT.resolve("llama-tiny.gguf");
            SyntheticModel.write(llama, TINY, GgmlType.F32, 11, 0.3f);
            try (GgufFile src = GgufFile.open(llama)) {
                GgufWriter w = new GgufWriter();
                src.metadata().asMap().forEach((k, v) -> w.put(k.startsWith("llama.") ? "qwen2." + k.substring(6) : k, v));
                w.put("general.architecture", GgufValue.ofString("qwen2"));
                for (GgufTensorInfo t : src.tensors()) {
                    w.tensor(t.name(), t.type(), t.shape(), src.tensorData(t));
                }
                Random r = new Random(5);
                int headDim = TINY.dim() / TINY.heads();
                for (int l = 0; l < TINY.layers(); l++) {
                    for (String n : new String[] {"q", "k", "v"}) {
                        float[] b = new float[n.equals("q") ? TINY.dim() : TINY.kvHeads() * headDim];
                        for (int i = 0; i < b.length; i++) {
                            b[i] = (r.nextFloat() - 0.5f) * 0.4f;
                        }
                        w.tensor("blk." + l + ".attn_" + n + ".bias", GgmlType.F32, new long[] {b.length}, b);
                    }
                }
                w.write(file);
            }
        }
        return file;
    }

    static synchronized Path qwen2Folder() {
        Path dir = ROOT.resolve("qwen2-tiny");
        if (!Files.isRegularFile(dir.resolve("config.json"))) {
            Path gguf = qwen2Gguf();
            fresh(dir);
            HfConverter.toHuggingFace(gguf, dir, Long.MAX_VALUE);
        }
        return dir;
    }

    /** Deletes and recreates a folder. */
    static void fresh(Path dir) {
        try {
            if (Files.exists(dir)) {
                try (Stream<Path> s = Files.walk(dir)) {
                    for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                        Files.delete(p);
                    }
                }
            }
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** ||logits - ref|| / ||ref||. */
    static double relativeError(float[] ref, float[] logits) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < ref.length; i++) {
            num += (logits[i] - ref[i]) * (double) (logits[i] - ref[i]);
            den += ref[i] * (double) ref[i];
        }
        return Math.sqrt(num / den);
    }
}
