package dev.gearbx.engine.tokenizer;

import dev.gearbx.engine.gguf.GgufMetadata;
import dev.gearbx.engine.gguf.GgufMetadataException;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;
import java.util.TreeSet;

/** Builds the tokenizer a GGUF file describes in its {@code tokenizer.ggml.*} metadata. */
public final class Tokenizers {
    /** Token texts that end a turn in common chat formats (used when the file names no EOT id). */
    private static final List<String> END_OF_TURN_TEXTS = List.of(
            "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "</s>");

    private Tokenizers() {}

    /**
     * The tokenizer of a GGUF model.
     *
     * @throws GgufMetadataException naming the key when the metadata is missing or inconsistent, or
     *     the tokenizer model is not supported
     */
    public static Tokenizer fromGguf(GgufMetadata md) {
        String model = md.getString("tokenizer.ggml.model");
        String[] tokens = md.getStringArray("tokenizer.ggml.tokens");
        int n = tokens.length;
        int[] types = md.contains("tokenizer.ggml.token_type") ? md.getIntArray("tokenizer.ggml.token_type") : null;
        if (types != null && types.length != n) {
            throw new GgufMetadataException("tokenizer.ggml.token_type", "has " + types.length + " entries but tokenizer.ggml.tokens has " + n);
        }
        return switch (model) {
            case "llama" -> {
                float[] scores = md.contains("tokenizer.ggml.scores") ? md.getFloatArray("tokenizer.ggml.scores") : new float[n];
                if (scores.length != n) {
                    throw new GgufMetadataException("tokenizer.ggml.scores", "has " + scores.length + " entries but tokenizer.ggml.tokens has " + n);
                }
                SpecialTokens special = specialTokens(md, tokens, true);
                int unk = optionalId(md, "tokenizer.ggml.unknown_token_id", n).orElse(-1);
                boolean spacePrefix = md.findBoolean("tokenizer.ggml.add_space_prefix").orElse(true);
                yield new SentencePieceTokenizer(List.of(tokens), scores, types, special, unk, spacePrefix);
            }
            case "gpt2" -> {
                String[] merges = md.getStringArray("tokenizer.ggml.merges");
                SpecialTokens special = specialTokens(md, tokens, false);
                PreTokenizer pre;
                try {
                    pre = PreTokenizer.fromGgufName(md.findString("tokenizer.ggml.pre").orElse(null));
                } catch (IllegalArgumentException e) {
                    throw new GgufMetadataException("tokenizer.ggml.pre", e.getMessage());
                }
                try {
                    yield new ByteLevelBpeTokenizer(List.of(tokens), types, List.of(merges), pre, special);
                } catch (IllegalArgumentException e) {
                    throw new GgufMetadataException("tokenizer.ggml.merges", e.getMessage());
                }
            }
            default -> throw new GgufMetadataException("tokenizer.ggml.model",
                    "tokenizer model '" + model + "' is not supported (supported: llama, gpt2)");
        };
    }

    private static SpecialTokens specialTokens(GgufMetadata md, String[] tokens, boolean addBosDefault) {
        int n = tokens.length;
        int bos = optionalId(md, "tokenizer.ggml.bos_token_id", n).orElse(-1);
        int eos = optionalId(md, "tokenizer.ggml.eos_token_id", n).orElse(-1);
        TreeSet<Integer> end = new TreeSet<>();
        if (eos >= 0) {
            end.add(eos);
        }
        optionalId(md, "tokenizer.ggml.eot_token_id", n).ifPresent(end::add);
        optionalId(md, "tokenizer.ggml.eom_token_id", n).ifPresent(end::add);
        List<String> texts = Arrays.asList(tokens);
        for (String t : END_OF_TURN_TEXTS) {
            int id = texts.indexOf(t);
            if (id >= 0) {
                end.add(id);
            }
        }
        boolean addBos = md.findBoolean("tokenizer.ggml.add_bos_token").orElse(addBosDefault) && bos >= 0;
        return new SpecialTokens(bos, eos, end.stream().mapToInt(Integer::intValue).toArray(), addBos);
    }

    /** A token id key; absent, or the "none" value 0xFFFFFFFF / -1, gives empty. */
    private static OptionalInt optionalId(GgufMetadata md, String key, int vocabularySize) {
        if (!md.contains(key)) {
            return OptionalInt.empty();
        }
        long id = md.get(key).value() instanceof Long l ? l : -2;
        if (id == 0xFFFF_FFFFL || id == -1) {
            return OptionalInt.empty();
        }
        if (id < 0 || id >= vocabularySize) {
            throw new GgufMetadataException(key, "token id " + id + " is outside the vocabulary of " + vocabularySize);
        }
        return OptionalInt.of((int) id);
    }
}
