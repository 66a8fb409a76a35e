package dev.gearbx.engine.hf;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gearbx.engine.gguf.GgufMetadata;
import dev.gearbx.engine.gguf.GgufMetadataException;
import dev.gearbx.engine.tokenizer.PreTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Writes the {@code tokenizer.json} and {@code tokenizer_config.json} of a GGUF model's {@code
 * tokenizer.*} metadata: byte-level BPE ({@code gpt2}) with its split and merges, or SentencePiece
 * BPE ({@code llama}) as Hugging Face's BPE with byte fallback, its merges derived from the piece
 * scores (every split of a piece into two pieces, best-scored pieces first).
 */
final class HfTokenizerWriter {
    private HfTokenizerWriter() {}

    /** Writes both files into {@code folder}. */
    static void write(GgufMetadata md, Path folder) {
        String model = md.getString("tokenizer.ggml.model");
        String[] tokens = md.getStringArray("tokenizer.ggml.tokens");
        int @Nullable [] types = md.contains("tokenizer.ggml.token_type") ? md.getIntArray("tokenizer.ggml.token_type") : null;
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        ObjectNode bpe = Json.MAPPER.createObjectNode();
        bpe.put("type", "BPE");
        bpe.putNull("dropout");
        int unk = md.findInt("tokenizer.ggml.unknown_token_id").orElse(-1);
        int bos = md.findInt("tokenizer.ggml.bos_token_id").orElse(-1);
        boolean addBos = md.findBoolean("tokenizer.ggml.add_bos_token").orElse(model.equals("llama")) && bos >= 0;
        for (int id = 0; id < tokens.length; id++) {
            int type = types == null ? HfTokenizerReader.NORMAL : types[id];
            if (type == HfTokenizerReader.CONTROL || type == HfTokenizerReader.USER_DEFINED || type == HfTokenizerReader.UNKNOWN) {
                added.addObject().put("id", id).put("content", tokens[id]).put("single_word", false)
                        .put("lstrip", false).put("rstrip", false).put("normalized", type == HfTokenizerReader.USER_DEFINED)
                        .put("special", type != HfTokenizerReader.USER_DEFINED);
            }
        }
        switch (model) {
            case "llama" -> {
                boolean spacePrefix = md.findBoolean("tokenizer.ggml.add_space_prefix").orElse(true);
                ObjectNode normalizer = root.putObject("normalizer");
                normalizer.put("type", "Sequence");
                ArrayNode ns = normalizer.putArray("normalizers");
                if (spacePrefix) {
                    ns.addObject().put("type", "Prepend").put("prepend", "\u2581");
                }
                ns.addObject().put("type", "Replace").<ObjectNode>set("pattern", Json.MAPPER.createObjectNode().put("String", " "))
                        .put("content", "\u2581");
                root.putNull("pre_tokenizer");
                postProcessor(root, addBos ? tokens[bos] : null, bos);
                ObjectNode decoder = root.putObject("decoder");
                decoder.put("type", "Sequence");
                ArrayNode ds = decoder.putArray("decoders");
                ds.addObject().put("type", "Replace").<ObjectNode>set("pattern", Json.MAPPER.createObjectNode().put("String", "\u2581"))
                        .put("content", " ");
                ds.addObject().put("type", "ByteFallback");
                ds.addObject().put("type", "Fuse");
                if (spacePrefix) {
                    ds.addObject().put("type", "Strip").put("content", " ").put("start", 1).put("stop", 0);
                }
                if (unk >= 0) {
                    bpe.put("unk_token", tokens[unk]);
                } else {
                    bpe.putNull("unk_token");
                }
                bpe.putNull("continuing_subword_prefix");
                bpe.putNull("end_of_word_suffix");
                bpe.put("fuse_unk", true);
                bpe.put("byte_fallback", true);
                bpe.put("ignore_merges", false);
                ObjectNode vocab = bpe.putObject("vocab");
                for (int id = 0; id < tokens.length; id++) {
                    vocab.put(tokens[id], id);
                }
                float[] scores = md.contains("tokenizer.ggml.scores") ? md.getFloatArray("tokenizer.ggml.scores") : new float[tokens.length];
                ArrayNode merges = bpe.putArray("merges");
                for (String[] m : sentencePieceMerges(tokens, types, scores)) {
                    merges.addArray().add(m[0]).add(m[1]);
                }
            }
            case "gpt2" -> {
                PreTokenizer pre;
                try {
                    pre = PreTokenizer.fromGgufName(md.findString("tokenizer.ggml.pre").orElse(null));
                } catch (IllegalArgumentException e) {
                    throw new GgufMetadataException("tokenizer.ggml.pre", e.getMessage());
                }
                if (pre.normalizesNfc()) {
                    root.putObject("normalizer").put("type", "NFC");
                } else {
                    root.putNull("normalizer");
                }
                ObjectNode preNode = root.putObject("pre_tokenizer");
                if (pre == PreTokenizer.GPT2) {
                    preNode.put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true).put("use_regex", true);
                } else {
                    preNode.put("type", "Sequence");
                    ArrayNode steps = preNode.putArray("pretokenizers");
                    ObjectNode split = steps.addObject().put("type", "Split");
                    split.putObject("pattern").put("Regex", pre.pattern().pattern());
                    split.put("behavior", "Isolated").put("invert", false);
                    steps.addObject().put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", false)
                            .put("use_regex", false);
                }
                postProcessor(root, addBos ? tokens[bos] : null, bos);
                root.putObject("decoder").put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", false)
                        .put("use_regex", false);
                bpe.putNull("unk_token");
                bpe.putNull("continuing_subword_prefix");
                bpe.putNull("end_of_word_suffix");
                bpe.put("fuse_unk", false);
                bpe.put("byte_fallback", false);
                bpe.put("ignore_merges", pre.ignoresMerges());
                ObjectNode vocab = bpe.putObject("vocab");
                for (int id = 0; id < tokens.length; id++) {
                    if (types == null || types[id] == HfTokenizerReader.NORMAL) {
                        vocab.put(tokens[id], id);
                    }
                }
                ArrayNode merges = bpe.putArray("merges");
                for (String m : md.getStringArray("tokenizer.ggml.merges")) {
                    merges.add(m);
                }
            }
            default -> throw new GgufMetadataException("tokenizer.ggml.model",
                    "tokenizer model '" + model + "' cannot be written as tokenizer.json (supported: llama, gpt2)");
        }
        root.set("model", bpe);
        Json.write(folder.resolve("tokenizer.json"), root);

        ObjectNode config = Json.MAPPER.createObjectNode();
        config.put("tokenizer_class", "PreTrainedTokenizerFast");
        config.put("add_bos_token", addBos);
        putTokenText(config, "bos_token", md, "tokenizer.ggml.bos_token_id", tokens);
        putTokenText(config, "eos_token", md, "tokenizer.ggml.eos_token_id", tokens);
        putTokenText(config, "unk_token", md, "tokenizer.ggml.unknown_token_id", tokens);
        md.findString("tokenizer.chat_template").ifPresent(t -> config.put("chat_template", t));
        Json.write(folder.resolve("tokenizer_config.json"), config);
    }

    private static void postProcessor(ObjectNode root, @Nullable String bosText, int bos) {
        if (bosText == null) {
            root.putNull("post_processor");
            return;
        }
        ObjectNode p = root.putObject("post_processor");
        p.put("type", "TemplateProcessing");
        ArrayNode single = p.putArray("single");
        single.addObject().putObject("SpecialToken").put("id", bosText).put("type_id", 0);
        single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        ArrayNode pair = p.putArray("pair");
        pair.addObject().putObject("SpecialToken").put("id", bosText).put("type_id", 0);
        pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        pair.addObject().putObject("SpecialToken").put("id", bosText).put("type_id", 1);
        pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
        ObjectNode special = p.putObject("special_tokens").putObject(bosText);
        special.put("id", bosText);
        special.putArray("ids").add(bos);
        special.putArray("tokens").add(bosText);
    }

    private static void putTokenText(ObjectNode config, String key, GgufMetadata md, String idKey, String[] tokens) {
        int id = md.findInt(idKey).orElse(-1);
        if (id >= 0 && id < tokens.length) {
            config.put(key, tokens[id]);
        } else {
            config.putNull(key);
        }
    }

    /**
     * Merges equivalent to SentencePiece's score-driven BPE: for every normal piece, each split into
     * two normal pieces, ordered by the merged piece's score (best first), then by the ids of the two
     * halves.
     */
    static List<String[]> sentencePieceMerges(String[] tokens, int @Nullable [] types, float[] scores) {
        Map<String, Integer> ids = new HashMap<>();
        for (int id = 0; id < tokens.length; id++) {
            if (types == null || types[id] == HfTokenizerReader.NORMAL) {
                ids.putIfAbsent(tokens[id], id);
            }
        }
        record Merge(String left, String right, float score, int merged, int leftId, int rightId) {}
        List<Merge> merges = new ArrayList<>();
        for (int id = 0; id < tokens.length; id++) {
            if (types != null && types[id] != HfTokenizerReader.NORMAL) {
                continue;
            }
            String t = tokens[id];
            for (int k = t.offsetByCodePoints(0, 1); k < t.length(); k = t.offsetByCodePoints(k, 1)) {
                Integer l = ids.get(t.substring(0, k));
                Integer r = ids.get(t.substring(k));
                if (l != null && r != null) {
                    merges.add(new Merge(t.substring(0, k), t.substring(k), scores[id], id, l, r));
                }
            }
        }
        merges.sort(Comparator.comparingDouble((Merge m) -> -m.score()).thenComparingInt(Merge::merged)
                .thenComparingInt(Merge::leftId).thenComparingInt(Merge::rightId));
        return merges.stream().map(m -> new String[] {m.left(), m.right()}).toList();
    }
}
