package dev.gearbx.engine.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Assumptions;

/**
 * Test support: builds {@link ByteLevelBpeTokenizer} from a Hugging Face {@code tokenizer.json} the
 * way GGUF metadata would hold it, and opens the same file with DJL's wrapper of the Rust
 * {@code tokenizers} library as the reference.
 */
final class HfTokenizerFiles {

    /** A model folder under the shared tokenizers directory, with what GGUF would say about it. */
    enum Model {
        LLAMA3("llama3", "llama-bpe", "<|begin_of_text|>", "<|end_of_text|>",
                List.of("<|end_of_text|>", "<|eot_id|>"), true),
        QWEN3("qwen3", "qwen2", null, "<|im_end|>", List.of("<|endoftext|>", "<|im_end|>"), false),
        /**
         * No GPT-2 tokenizer.json is at hand, so the reference for the GPT-2 split is Qwen3's file with
         * its normalizer removed and its split regex replaced by GPT-2's (the pattern that Hugging
         * Face's ByteLevel pre-tokenizer uses with {@code use_regex}).
         */
        GPT2_ON_QWEN3_VOCAB("qwen3", "gpt-2", null, "<|im_end|>", List.of("<|endoftext|>", "<|im_end|>"), false);

        final String folder;
        final String ggufPre;
        final String bos;
        final String eos;
        final List<String> endOfGeneration;
        final boolean addBos;

        Model(String folder, String ggufPre, String bos, String eos, List<String> eog, boolean addBos) {
            this.folder = folder;
            this.ggufPre = ggufPre;
            this.bos = bos;
            this.eos = eos;
            this.endOfGeneration = eog;
            this.addBos = addBos;
        }
    }

    /** What a GGUF file would hold, read from tokenizer.json. */
    record GgufLike(List<String> tokens, int[] types, List<String> merges, Map<String, Integer> ids) {}

    static final String GPT2_REGEX = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    private static final Map<Model, ByteLevelBpeTokenizer> OURS = new ConcurrentHashMap<>();
    private static final Map<Model, HuggingFaceTokenizer> REFERENCE = new ConcurrentHashMap<>();
    private static final Map<Model, GgufLike> DATA = new ConcurrentHashMap<>();

    private HfTokenizerFiles() {}

    static Path directory() {
        Path dir = Path.of(System.getProperty("gearbx.tokenizers", "../shared/tokenizers")).toAbsolutePath();
        Assumptions.assumeTrue(Files.isDirectory(dir),
                "tokenizer test data not found at " + dir + " (system property gearbx.tokenizers)");
        return dir;
    }

    static Path tokenizerJson(Model model) {
        Path file = directory().resolve(model.folder).resolve("tokenizer.json");
        Assumptions.assumeTrue(Files.isRegularFile(file), "missing " + file);
        return file;
    }

    static synchronized GgufLike data(Model model) {
        GgufLike d = DATA.get(model);
        if (d == null) {
            d = read(tokenizerJson(model));
            DATA.put(model, d);
        }
        return d;
    }

    static synchronized ByteLevelBpeTokenizer ours(Model model) {
        ByteLevelBpeTokenizer t = OURS.get(model);
        if (t == null) {
            GgufLike d = data(model);
            int bos = model.bos == null ? -1 : d.ids().get(model.bos);
            int eos = d.ids().get(model.eos);
            int[] eog = model.endOfGeneration.stream().mapToInt(d.ids()::get).toArray();
            t = new ByteLevelBpeTokenizer(d.tokens(), d.types(), d.merges(),
                    PreTokenizer.fromGgufName(model.ggufPre), new SpecialTokens(bos, eos, eog, model.addBos));
            OURS.put(model, t);
        }
        return t;
    }

    /**
     * The reference tokenizer. Aborts the test (with the reason) if DJL's native library cannot be
     * loaded on this machine, rather than failing everything else.
     */
    static synchronized HuggingFaceTokenizer reference(Model model) {
        HuggingFaceTokenizer t = REFERENCE.get(model);
        if (t == null) {
            Path file = tokenizerJson(model);
            try {
                Map<String, String> options = Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false");
                if (model == Model.GPT2_ON_QWEN3_VOCAB) {
                    ObjectMapper mapper = new ObjectMapper();
                    ObjectNode root = (ObjectNode) mapper.readTree(file.toFile());
                    root.putNull("normalizer");
                    ObjectNode split = (ObjectNode) root.get("pre_tokenizer").get("pretokenizers").get(0);
                    ((ObjectNode) split.get("pattern")).put("Regex", GPT2_REGEX);
                    t = HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(mapper.writeValueAsBytes(root)), options);
                } else {
                    t = HuggingFaceTokenizer.newInstance(file, options);
                }
            } catch (UnsatisfiedLinkError | ExceptionInInitializerError | NoClassDefFoundError e) {
                Assumptions.abort("DJL Hugging Face tokenizers native library could not be loaded: " + e);
                throw new AssertionError(e);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (RuntimeException e) {
                if (String.valueOf(e.getMessage()).toLowerCase().contains("native")) {
                    Assumptions.abort("DJL Hugging Face tokenizers native library could not be loaded: " + e);
                }
                throw e;
            }
            REFERENCE.put(model, t);
        }
        return t;
    }

    /** Reference ids, special tokens not added (added tokens in the text are still matched). */
    static int[] referenceIds(Model model, String text) {
        long[] ids = reference(model).encode(text, false, false).getIds();
        return Arrays.stream(ids).mapToInt(Math::toIntExact).toArray();
    }

    private static GgufLike read(Path file) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        JsonNode model = root.get("model");
        Map<Integer, String> byId = new HashMap<>();
        Map<Integer, Integer> typeById = new HashMap<>();
        model.get("vocab").properties().forEach(e -> {
            byId.put(e.getValue().asInt(), e.getKey());
            typeById.put(e.getValue().asInt(), ByteLevelBpeTokenizer.TYPE_NORMAL);
        });
        for (JsonNode added : root.get("added_tokens")) {
            int id = added.get("id").asInt();
            byId.put(id, added.get("content").asText());
            typeById.put(id, added.get("special").asBoolean()
                    ? ByteLevelBpeTokenizer.TYPE_CONTROL
                    : ByteLevelBpeTokenizer.TYPE_USER_DEFINED);
        }
        int size = byId.keySet().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
        List<String> tokens = new ArrayList<>(size);
        int[] types = new int[size];
        Map<String, Integer> ids = new HashMap<>();
        for (int id = 0; id < size; id++) {
            String text = byId.get(id);
            if (text == null) { // gap in the ids: a placeholder, as GGUF converters write
                tokens.add("[PAD" + id + "]");
                types[id] = ByteLevelBpeTokenizer.TYPE_UNUSED;
            } else {
                tokens.add(text);
                types[id] = typeById.get(id);
                ids.putIfAbsent(text, id);
            }
        }
        List<String> merges = new ArrayList<>();
        for (JsonNode m : model.get("merges")) {
            merges.add(m.isArray() ? m.get(0).asText() + " " + m.get(1).asText() : m.asText());
        }
        return new GgufLike(tokens, types, merges, ids);
    }
}
