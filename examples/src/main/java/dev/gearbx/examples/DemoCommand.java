package dev.gearbx.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gearbx.demo.DemoCorpus;
import dev.gearbx.demo.DemoVocabulary;
import dev.gearbx.engine.gguf.GgmlType;
import dev.gearbx.engine.gguf.GgufValue;
import dev.gearbx.engine.gguf.GgufWriter;
import dev.gearbx.engine.tokenizer.Tokenizer;
import java.io.BufferedOutputStream;
import java.io.BufferedWriter;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.zip.GZIPOutputStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Makes the embedded demo model: writes its corpus for training, and turns trained weights into GGUF. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Build the embedded demo model: write the training corpus, export trained weights to GGUF.",
        subcommands = {DemoCommand.Corpus.class, DemoCommand.Export.class})
final class DemoCommand implements Runnable {
    @picocli.CommandLine.Spec
    @SuppressWarnings("NullAway.Init")
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Writes the training tokens and the evaluation files. */
    @Command(name = "corpus", mixinStandardHelpOptions = true,
            description = {"Write the seeded demo corpus into a folder:",
                "  train.u16.gz  training token ids (uint16 little-endian), documents <s> ... </s> back to back",
                "  eval.jsonl    evaluation exchanges (prompt, prompt_ids, completion, level, GSM8K-style answer)",
                "  vocab.json    the vocabulary (pieces by id, bos, eos)",
                "  prompts-hard.txt, prompts-trivial.txt  evaluation prompts for `bench entropy` (\\n for newlines)"})
    static final class Corpus implements Callable<Integer> {
        @Option(names = "--out", required = true, description = "Folder to write into (created if missing).")
        Path out = Path.of(".");

        @Option(names = "--tokens", defaultValue = "20000000", description = "Training tokens to write, at least (default: ${DEFAULT-VALUE}).")
        long tokens;

        @Option(names = "--seed", defaultValue = "1", description = "Training stream seed (default: ${DEFAULT-VALUE}).")
        long seed;

        @Option(names = "--eval-seed", defaultValue = "7", description = "Evaluation set seed (default: ${DEFAULT-VALUE}).")
        long evalSeed;

        @Option(names = "--eval-per-level", defaultValue = "200", description = "Evaluation exchanges per level (default: ${DEFAULT-VALUE}).")
        int perLevel;

        @Override
        public Integer call() throws IOException {
            Files.createDirectories(out);
            Tokenizer tok = DemoVocabulary.tokenizer();
            long written = 0;
            long documents = 0;
            try (DataOutputStream data = new DataOutputStream(new BufferedOutputStream(
                    new GZIPOutputStream(Files.newOutputStream(out.resolve("train.u16.gz")), 1 << 16), 1 << 16))) {
                Iterator<DemoCorpus.Exchange> it = DemoCorpus.training(seed).iterator();
                while (written < tokens) {
                    int[] ids = tok.encode(it.next().document(), true, false);
                    for (int id : ids) {
                        data.writeShort(Short.reverseBytes((short) id));
                    }
                    data.writeShort(Short.reverseBytes((short) DemoVocabulary.EOS));
                    written += ids.length + 1;
                    documents++;
                }
            }
            ObjectMapper json = new ObjectMapper();
            try (BufferedWriter w = Files.newBufferedWriter(out.resolve("eval.jsonl"))) {
                for (DemoCorpus.Exchange e : DemoCorpus.evaluation(evalSeed, perLevel)) {
                    w.write(json.writeValueAsString(evalLine(json, tok, e)));
                    w.newLine();
                }
            }
            List<DemoCorpus.Exchange> eval = DemoCorpus.evaluation(evalSeed, perLevel);
            Files.write(out.resolve("prompts-trivial.txt"), eval.stream().filter(e -> e.level() == DemoCorpus.Level.TRIVIAL)
                    .map(e -> e.prompt().replace("\n", "\\n")).toList());
            Files.write(out.resolve("prompts-hard.txt"), eval.stream().filter(e -> e.level() != DemoCorpus.Level.TRIVIAL)
                    .map(e -> e.prompt().replace("\n", "\\n")).toList());
            ObjectNode vocab = json.createObjectNode();
            vocab.put("bos", DemoVocabulary.BOS).put("eos", DemoVocabulary.EOS);
            DemoVocabulary.tokens().forEach(vocab.putArray("tokens")::add);
            json.writeValue(out.resolve("vocab.json").toFile(), vocab);
            System.out.printf("wrote %,d tokens in %,d documents, %d evaluation exchanges to %s%n",
                    written, documents, 4 * perLevel, out);
            return 0;
        }

        static ObjectNode evalLine(ObjectMapper json, Tokenizer tok, DemoCorpus.Exchange e) {
            ObjectNode n = json.createObjectNode();
            n.put("level", e.level().label());
            n.put("question", e.prompt());
            n.put("answer", e.reply() + " #### " + e.expected());
            n.put("completion", e.completion());
            n.put("answer_start", e.answerStart()).put("answer_end", e.answerEnd());
            for (int id : tok.encode(e.prompt(), true, false)) {
                n.withArray("prompt_ids").add(id);
            }
            return n;
        }
    }

    /** Writes trained weights (manifest.json + weights.bin from tools/demo-model/train.py) as a GGUF model. */
    @Command(name = "export", mixinStandardHelpOptions = true,
            description = "Write trained weights (manifest.json + weights.bin from tools/demo-model/train.py) as a GGUF model.")
    static final class Export implements Callable<Integer> {
        @Option(names = "--weights", required = true, description = "Folder holding manifest.json and weights.bin.")
        Path weights = Path.of(".");

        @Option(names = "--out", required = true, description = "GGUF file to write.")
        Path out = Path.of("gearbx-demo.gguf");

        @Option(names = "--type", defaultValue = "F16", description = "Type of the matrices: F16 or F32 (norms stay F32; default: ${DEFAULT-VALUE}).")
        GgmlType type = GgmlType.F16;

        @Option(names = "--thresholds", split = ",", defaultValue = "0.1,0.5",
                description = "Routing thresholds in bits LOW,HIGH written into the model as gearbx.routing.thresholds (default: ${DEFAULT-VALUE}).")
        java.util.List<Float> thresholds = java.util.List.of(0.1f, 0.5f);

        @Override
        public Integer call() throws IOException {
            if (thresholds.size() != 2) {
                throw new IllegalArgumentException("--thresholds needs two values LOW,HIGH, got " + thresholds);
            }
            new dev.gearbx.engine.routing.Thresholds(thresholds.get(0), thresholds.get(1)); // validates
            if (type != GgmlType.F16 && type != GgmlType.F32) {
                throw new IllegalArgumentException("--type must be F16 or F32, not " + type);
            }
            JsonNode manifest = new ObjectMapper().readTree(weights.resolve("manifest.json").toFile());
            JsonNode c = manifest.required("config");
            GgufWriter w = new GgufWriter();
            w.put("general.architecture", GgufValue.ofString("llama"));
            w.put("general.name", GgufValue.ofString("gearbx-demo"));
            w.put("general.description", GgufValue.ofString(
                    "Character-level Llama trained by gearbx on its synthetic Q/A and arithmetic corpus; see MODEL_CARD.md"));
            w.put("general.license", GgufValue.ofString("Apache-2.0"));
            w.put("llama.context_length", GgufValue.ofUint32(c.required("context").asInt()));
            w.put("llama.embedding_length", GgufValue.ofUint32(c.required("dim").asInt()));
            w.put("llama.block_count", GgufValue.ofUint32(c.required("layers").asInt()));
            w.put("llama.feed_forward_length", GgufValue.ofUint32(c.required("ffn").asInt()));
            w.put("llama.attention.head_count", GgufValue.ofUint32(c.required("heads").asInt()));
            w.put("llama.attention.head_count_kv", GgufValue.ofUint32(c.required("kv_heads").asInt()));
            w.put("llama.rope.dimension_count", GgufValue.ofUint32(c.required("dim").asInt() / c.required("heads").asInt()));
            w.put("llama.rope.freq_base", GgufValue.ofFloat32((float) c.required("rope_theta").asDouble()));
            w.put("llama.attention.layer_norm_rms_epsilon", GgufValue.ofFloat32((float) c.required("norm_eps").asDouble()));
            w.put("llama.vocab_size", GgufValue.ofUint32(DemoVocabulary.SIZE));
            if (c.required("vocab").asInt() != DemoVocabulary.SIZE) {
                throw new IllegalArgumentException("manifest.json config.vocab is " + c.required("vocab").asInt()
                        + " but the demo vocabulary has " + DemoVocabulary.SIZE + " tokens");
            }
            DemoVocabulary.writeTo(w);
            w.put(dev.gearbx.engine.routing.Thresholds.METADATA_KEY, GgufValue.ofFloats(thresholds.get(0), thresholds.get(1)));
            try (FileChannel ch = FileChannel.open(weights.resolve("weights.bin"), StandardOpenOption.READ)) {
                for (JsonNode t : manifest.required("tensors")) {
                    String name = t.required("name").asText();
                    long[] shape = new long[t.required("shape").size()];
                    long count = 1;
                    for (int i = 0; i < shape.length; i++) {
                        shape[i] = t.required("shape").get(i).asLong();
                        count *= shape[i];
                    }
                    boolean half = t.path("dtype").asText("f32").equals("f16");
                    float[] values = readFloats(ch, t.required("offset").asLong(), Math.toIntExact(count), half, name);
                    w.tensor(name, shape.length == 1 ? GgmlType.F32 : type, shape, values);
                }
            }
            w.write(out);
            System.out.printf("wrote %s (%,d bytes)%n", out, Files.size(out));
            return 0;
        }

        private static float[] readFloats(FileChannel ch, long offset, int count, boolean half, String name) throws IOException {
            int width = half ? 2 : 4;
            if (offset < 0 || offset + (long) width * count > ch.size()) {
                throw new IOException("tensor " + name + " at offset " + offset + " with " + count
                        + (half ? " halves" : " floats") + " runs past the end of weights.bin (" + ch.size() + " bytes)");
            }
            ByteBuffer buf = ByteBuffer.allocate(width * count).order(ByteOrder.LITTLE_ENDIAN);
            while (buf.hasRemaining()) {
                if (ch.read(buf, offset + buf.position()) < 0) {
                    throw new IOException("weights.bin ended inside tensor " + name);
                }
            }
            buf.flip();
            float[] v = new float[count];
            for (int i = 0; i < count; i++) {
                v[i] = half ? Float.float16ToFloat(buf.getShort()) : buf.getFloat();
            }
            return v;
        }
    }
}
