package dev.gearbx.engine.hf;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gearbx.engine.gguf.GgufMetadata;
import dev.gearbx.engine.gguf.GgufValue;
import dev.gearbx.engine.tokenizer.PreTokenizer;
import dev.gearbx.engine.tokenizer.Tokenizer;
import dev.gearbx.engine.tokenizer.Tokenizers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Reads a Hugging Face {@code tokenizer.json} (and {@code tokenizer_config.json} beside it, when
 * present) into the {@code tokenizer.*} GGUF metadata that {@link Tokenizers#fromGguf} builds
 * gearbx's tokenizers from:
 *
 * <ul>
 *   <li>byte-level BPE (a {@code ByteLevel} pre-tokenizer, with the GPT-2, Llama 3 or Qwen2 split
 *       and the Qwen2 NFC normalizer) becomes {@code tokenizer.ggml.model = gpt2} with its merges;
 *   <li>SentencePiece-style BPE (a normalizer or {@code Metaspace} pre-tokenizer turning spaces into
 *       {@code ▁}, byte fallback) becomes {@code tokenizer.ggml.model = llama}, each piece scored by
 *       the rank of the first merge that makes it;
 *   <li>added tokens keep their ids (special ones become control tokens, the others user-defined);
 *       {@code bos_token}, {@code eos_token}, {@code add_bos_token} and {@code chat_template} come
 *       from {@code tokenizer_config.json}.
 * </ul>
 *
 * <pre>{@code
 * Tokenizer t = HfTokenizerReader.load(Path.of("Llama-3.2-1B"));   // the folder with tokenizer.json
 * int[] ids = t.encode("Hello world");
 * }</pre>
 */
public final class HfTokenizerReader {
    /** GGUF token types. */
    static final int NORMAL = 1;
    static final int UNKNOWN = 2;
    static final int CONTROL = 3;
    static final int USER_DEFINED = 4;
    static final int UNUSED = 5;
    static final int BYTE = 6;

    private HfTokenizerReader() {}

    /**
     * The tokenizer of a folder holding {@code tokenizer.json} (and optionally {@code tokenizer_config.json}).
     *
     * @throws HfFormatException naming the file and field when something is missing or unsupported
     */
    public static Tokenizer load(Path folder) {
        return Tokenizers.fromGguf(new GgufMetadata(toGguf(folder)));
    }

    /** The {@code tokenizer.*} GGUF metadata of a folder holding {@code tokenizer.json}. */
    public static Map<String, GgufValue> toGguf(Path folder) {
        Path file = folder.resolve("tokenizer.json");
        Path configFile = folder.resolve("tokenizer_config.json");
        JsonNode root = Json.readObject(file);
        JsonNode config = Files.isRegularFile(configFile) ? Json.readObject(configFile) : Json.MAPPER.createObjectNode();
        JsonNode model = root.path("model");
        String type = model.path("type").asText("");
        if (!type.equals("BPE")) {
            throw new HfFormatException(file, "model.type", "tokenizer model '" + type + "' is not supported (supported: BPE)");
        }
        if (!model.path("vocab").isObject()) {
            throw new HfFormatException(file, "model.vocab", "missing or not an object of token to id");
        }
        // tokens by id: the vocabulary, then the added tokens
        Map<Integer, String> byId = new HashMap<>();
        Map<Integer, Integer> typeById = new HashMap<>();
        for (Map.Entry<String, JsonNode> e : model.get("vocab").properties()) {
            int id = tokenId(file, "model.vocab." + e.getKey(), e.getValue());
            if (byId.put(id, e.getKey()) != null) {
                throw new HfFormatException(file, "model.vocab." + e.getKey(), "id " + id + " is used twice");
            }
            typeById.put(id, NORMAL);
        }
        for (JsonNode added : root.path("added_tokens")) {
            int id = tokenId(file, "added_tokens", added.get("id"));
            String content = added.path("content").asText();
            byId.put(id, content);
            typeById.put(id, added.path("special").asBoolean(false) ? CONTROL : USER_DEFINED);
        }
        int size = byId.keySet().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
        if (size == 0) {
            throw new HfFormatException(file, "model.vocab", "is empty");
        }
        String[] tokens = new String[size];
        int[] types = new int[size];
        Map<String, Integer> ids = new HashMap<>();
        for (int id = 0; id < size; id++) {
            String text = byId.get(id);
            if (text == null) { // a gap in the ids: a placeholder, as GGUF converters write
                tokens[id] = "[PAD" + id + "]";
                types[id] = UNUSED;
            } else {
                tokens[id] = text;
                types[id] = typeById.get(id);
                ids.putIfAbsent(text, id);
            }
        }
        List<String> merges = merges(file, model);

        Map<String, GgufValue> md = new LinkedHashMap<>();
        boolean byteLevel = hasType(root.get("pre_tokenizer"), "ByteLevel") || hasType(root.get("decoder"), "ByteLevel");
        if (byteLevel) {
            md.put("tokenizer.ggml.model", GgufValue.ofString("gpt2"));
            md.put("tokenizer.ggml.pre", GgufValue.ofString(preTokenizerName(file, root)));
            md.put("tokenizer.ggml.merges", GgufValue.ofStrings(merges.toArray(new String[0])));
        } else {
            md.put("tokenizer.ggml.model", GgufValue.ofString("llama"));
            md.put("tokenizer.ggml.add_space_prefix", GgufValue.ofBool(sentencePieceSpacePrefix(file, root)));
            float[] scores = new float[size];
            Arrays.fill(scores, -Float.MAX_VALUE);
            for (int rank = merges.size() - 1; rank >= 0; rank--) {
                Integer merged = ids.get(merges.get(rank).replace(" ", ""));
                if (merged != null) {
                    scores[merged] = -rank;
                }
            }
            for (int id = 0; id < size; id++) {
                if (types[id] == NORMAL && tokens[id].matches("<0x[0-9A-F]{2}>")) {
                    types[id] = BYTE;
                }
            }
            md.put("tokenizer.ggml.scores", GgufValue.ofFloats(scores));
        }
        String unk = model.path("unk_token").isTextual() ? model.get("unk_token").asText() : null;
        if (unk != null && ids.containsKey(unk)) {
            types[ids.get(unk)] = UNKNOWN;
            md.put("tokenizer.ggml.unknown_token_id", GgufValue.ofUint32(ids.get(unk)));
        }
        md.put("tokenizer.ggml.tokens", GgufValue.ofStrings(tokens));
        md.put("tokenizer.ggml.token_type", GgufValue.ofInt32s(types));
        String bos = specialText(configFile, config, "bos_token");
        String eos = specialText(configFile, config, "eos_token");
        if (bos != null) {
            md.put("tokenizer.ggml.bos_token_id", GgufValue.ofUint32(requireId(configFile, "bos_token", bos, ids)));
        }
        if (eos != null) {
            md.put("tokenizer.ggml.eos_token_id", GgufValue.ofUint32(requireId(configFile, "eos_token", eos, ids)));
        }
        md.put("tokenizer.ggml.add_bos_token", GgufValue.ofBool(Json.bool(configFile, config, "add_bos_token", bos != null)));
        String template = chatTemplate(configFile, config);
        if (template != null) {
            md.put("tokenizer.chat_template", GgufValue.ofString(template));
        }
        return md;
    }

    private static int tokenId(Path file, String field, @Nullable JsonNode v) {
        if (v == null || !v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < 0 || v.asInt() > 16_000_000) {
            throw new HfFormatException(file, field, "token id must be an integer in 0..16000000, got " + v);
        }
        return v.asInt();
    }

    private static List<String> merges(Path file, JsonNode model) {
        List<String> merges = new ArrayList<>();
        JsonNode m = model.path("merges");
        for (int i = 0; i < m.size(); i++) {
            JsonNode e = m.get(i);
            if (e.isTextual() && e.asText().indexOf(' ') > 0) {
                merges.add(e.asText());
            } else if (e.isArray() && e.size() == 2 && e.get(0).isTextual() && e.get(1).isTextual()) {
                merges.add(e.get(0).asText() + " " + e.get(1).asText());
            } else {
                throw new HfFormatException(file, "model.merges[" + i + "]", "must be \"a b\" or [\"a\", \"b\"], got " + e);
            }
        }
        return merges;
    }

    /** Whether {@code node} is of {@code type} or a Sequence containing one. */
    private static boolean hasType(@Nullable JsonNode node, String type) {
        if (node == null || node.isNull()) {
            return false;
        }
        if (type.equals(node.path("type").asText())) {
            return true;
        }
        for (String list : new String[] {"pretokenizers", "normalizers", "decoders"}) {
            for (JsonNode child : node.path(list)) {
                if (hasType(child, type)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The GGUF {@code tokenizer.ggml.pre} name of a byte-level tokenizer's split. */
    private static String preTokenizerName(Path file, JsonNode root) {
        JsonNode pre = root.get("pre_tokenizer");
        String regex = null;
        boolean byteLevelRegex = false;
        List<JsonNode> steps = new ArrayList<>();
        if (pre != null && pre.has("pretokenizers")) {
            pre.get("pretokenizers").forEach(steps::add);
        } else if (pre != null && !pre.isNull()) {
            steps.add(pre);
        }
        for (JsonNode s : steps) {
            switch (s.path("type").asText()) {
                case "Split" -> regex = s.path("pattern").path("Regex").asText(null);
                case "ByteLevel" -> byteLevelRegex = s.path("use_regex").asBoolean(true);
                default -> throw new HfFormatException(file, "pre_tokenizer",
                        "pre-tokenizer step '" + s.path("type").asText() + "' is not supported with byte-level BPE");
            }
        }
        PreTokenizer chosen;
        String name;
        if (regex == null && byteLevelRegex) {
            chosen = PreTokenizer.GPT2;
            name = "gpt-2";
        } else if (regex != null && regex.equals(PreTokenizer.LLAMA3.pattern().pattern())) {
            chosen = PreTokenizer.LLAMA3;
            name = "llama-bpe";
        } else if (regex != null && regex.equals(PreTokenizer.QWEN2.pattern().pattern())) {
            chosen = PreTokenizer.QWEN2;
            name = "qwen2";
        } else if (regex != null && regex.equals(PreTokenizer.GPT2.pattern().pattern())) {
            chosen = PreTokenizer.GPT2;
            name = "gpt-2";
        } else {
            throw new HfFormatException(file, "pre_tokenizer", "split " + (regex == null ? "(none)" : "regex '" + regex + "'")
                    + " is not one gearbx knows (GPT-2, Llama 3, Qwen2)");
        }
        boolean nfc = hasType(root.get("normalizer"), "NFC");
        JsonNode normalizer = root.get("normalizer");
        boolean otherNormalizer = normalizer != null && !normalizer.isNull() && !nfc;
        if (otherNormalizer || nfc != chosen.normalizesNfc()) {
            throw new HfFormatException(file, "normalizer", "normalizer " + normalizer + " with the " + name
                    + " split is not supported (expected " + (chosen.normalizesNfc() ? "NFC" : "none") + ")");
        }
        return name;
    }

    /** Whether a SentencePiece-style tokenizer prepends {@code ▁} to the text; fails for anything else. */
    private static boolean sentencePieceSpacePrefix(Path file, JsonNode root) {
        JsonNode normalizer = root.get("normalizer");
        JsonNode pre = root.get("pre_tokenizer");
        if (hasType(pre, "Metaspace")) {
            JsonNode m = pre.path("type").asText().equals("Metaspace") ? pre : findType(pre, "Metaspace");
            String scheme = m.path("prepend_scheme").asText(m.path("add_prefix_space").asBoolean(true) ? "always" : "never");
            return !scheme.equals("never");
        }
        if (hasType(normalizer, "Replace")) {
            return hasType(normalizer, "Prepend");
        }
        throw new HfFormatException(file, "normalizer", "neither a byte-level nor a SentencePiece-style (▁ for spaces)"
                + " tokenizer: normalizer " + normalizer + ", pre_tokenizer " + pre);
    }

    private static JsonNode findType(JsonNode node, String type) {
        for (JsonNode child : node.path("pretokenizers")) {
            if (type.equals(child.path("type").asText())) {
                return child;
            }
        }
        return node;
    }

    /** A special token's text from tokenizer_config.json: a string, an object with "content", or null. */
    private static @Nullable String specialText(Path file, JsonNode config, String key) {
        JsonNode v = config.get(key);
        if (v == null || v.isNull()) {
            return null;
        }
        if (v.isTextual()) {
            return v.asText();
        }
        if (v.isObject() && v.path("content").isTextual()) {
            return v.get("content").asText();
        }
        throw new HfFormatException(file, key, "must be a string, an object with content, or null; got " + v);
    }

    private static int requireId(Path file, String key, String text, Map<String, Integer> ids) {
        Integer id = ids.get(text);
        if (id == null) {
            throw new HfFormatException(file, key, "token '" + text + "' is not in tokenizer.json");
        }
        return id;
    }

    private static @Nullable String chatTemplate(Path file, JsonNode config) {
        JsonNode t = config.get("chat_template");
        if (t == null || t.isNull()) {
            return null;
        }
        if (t.isTextual()) {
            return t.asText();
        }
        if (t.isArray()) { // named templates: the default one
            for (JsonNode named : t) {
                if ("default".equals(named.path("name").asText())) {
                    return named.path("template").asText();
                }
            }
            if (!t.isEmpty()) {
                return t.get(0).path("template").asText();
            }
        }
        throw new HfFormatException(file, "chat_template", "must be a string or a list of named templates");
    }
}
