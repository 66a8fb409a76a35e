package dev.gearbx.engine.tokenizer;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * How a byte-level BPE tokenizer splits text into words before merging, chosen from the GGUF key
 * {@code tokenizer.ggml.pre}.
 *
 * <p>The patterns are the ones Hugging Face {@code tokenizers} runs with Oniguruma. They are compiled
 * with {@link Pattern#UNICODE_CHARACTER_CLASS} so that {@code \s} is Unicode {@code White_Space}
 * (as in Oniguruma) and the case-insensitive contractions fold case the Unicode way; Java's regex
 * engine works on code points, so characters above U+FFFF count as one character.
 */
public enum PreTokenizer {
    /** GPT-2's original split ({@code "gpt-2"}, {@code "default"} or no {@code tokenizer.ggml.pre}). */
    GPT2("'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+", false, false),

    /**
     * Llama 3: case-insensitive contractions, numbers in groups of up to three digits. Like
     * llama.cpp and the Hugging Face Llama 3 tokenizer ({@code ignore_merges}), a word that is
     * itself in the vocabulary is emitted as that token without running the merges. ({@code
     * smaug-bpe} maps here too; llama.cpp uses the same regex for it but without ignore_merges.)
     */
    LLAMA3("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", true, false),

    /**
     * Qwen2/Qwen3: as Llama 3 but one digit per word, and the text is NFC-normalized first (the
     * Hugging Face Qwen tokenizers have an NFC normalizer).
     */
    QWEN2("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", false, true);

    private static final String KNOWN_NAMES =
            "llama-bpe, llama3, llama-v3, smaug-bpe (LLAMA3); qwen2, deepseek-r1-qwen (QWEN2);"
                    + " gpt-2, default or absent (GPT2)";

    private final Pattern pattern;
    private final boolean ignoreMerges;
    private final boolean nfc;

    PreTokenizer(String regex, boolean ignoreMerges, boolean nfc) {
        this.pattern = Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS);
        this.ignoreMerges = ignoreMerges;
        this.nfc = nfc;
    }

    /**
     * Maps a GGUF {@code tokenizer.ggml.pre} value to a pre-tokenizer.
     *
     * @throws IllegalArgumentException for a name this class does not know
     */
    public static PreTokenizer fromGgufName(@Nullable String pre) {
        if (pre == null) {
            return GPT2;
        }
        return switch (pre) {
            case "gpt-2", "default" -> GPT2;
            case "llama-bpe", "llama3", "llama-v3", "smaug-bpe" -> LLAMA3;
            case "qwen2", "deepseek-r1-qwen" -> QWEN2;
            default -> throw new IllegalArgumentException(
                    "unknown tokenizer.ggml.pre \"" + pre + "\"; known: " + KNOWN_NAMES);
        };
    }

    /** The split regex (Java syntax). */
    public Pattern pattern() {
        return pattern;
    }

    /** Whether a word found whole in the vocabulary is emitted without merging. */
    public boolean ignoresMerges() {
        return ignoreMerges;
    }

    /** Whether text is NFC-normalized before splitting. */
    public boolean normalizesNfc() {
        return nfc;
    }

    /** Applies this pre-tokenizer's normalization (identity unless {@link #normalizesNfc()}). */
    String normalize(String text) {
        if (nfc && !Normalizer.isNormalized(text, Normalizer.Form.NFC)) {
            return Normalizer.normalize(text, Normalizer.Form.NFC);
        }
        return text;
    }

    /**
     * Splits already normalized text into words. Text between matches (there is none with these
     * patterns, which match every character) is kept as its own word, as Hugging Face's
     * {@code Isolated} split does.
     */
    public List<String> split(String text) {
        List<String> words = new ArrayList<>();
        Matcher m = pattern.matcher(text);
        int last = 0;
        while (m.find()) {
            if (m.start() > last) {
                words.add(text.substring(last, m.start()));
            }
            words.add(m.group());
            last = m.end();
        }
        if (last < text.length()) {
            words.add(text.substring(last));
        }
        return words;
    }
}
