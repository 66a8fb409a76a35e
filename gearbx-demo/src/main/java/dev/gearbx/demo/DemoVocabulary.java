package dev.gearbx.demo;

import dev.gearbx.engine.gguf.GgufValue;
import dev.gearbx.engine.gguf.GgufWriter;
import dev.gearbx.engine.tokenizer.SentencePieceTokenizer;
import dev.gearbx.engine.tokenizer.SpecialTokens;
import dev.gearbx.engine.tokenizer.TokenType;
import dev.gearbx.engine.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;

/**
 * The demo model's vocabulary: a character-level SentencePiece vocabulary that gearbx's GGUF tokenizer loads like any
 * Llama 2 vocabulary. Ids: {@code <unk>} 0, {@code <s>} 1, {@code </s>} 2, the 256 byte tokens {@code <0x00>}…
 * {@code <0xFF>} (3–258), {@code ▁} (the space, 259), then the printable ASCII characters {@code !}…{@code ~} (260–353).
 * There are no multi-character pieces, so every character is one token and anything else (a newline, non-ASCII text)
 * falls back to its UTF-8 bytes.
 *
 * <pre>{@code
 * int[] ids = DemoVocabulary.tokenizer().encode("Q: What is 2 + 3?\nA:");
 * }</pre>
 */
public final class DemoVocabulary {
    /** Id of the beginning-of-sequence token {@code <s>}. */
    public static final int BOS = 1;
    /** Id of the end-of-sequence token {@code </s>}, which ends every training document. */
    public static final int EOS = 2;
    /** Number of tokens. */
    public static final int SIZE = 3 + 256 + 1 + ('~' - '!' + 1);

    private static final List<String> TOKENS = buildTokens();
    private static final Tokenizer TOKENIZER = new SentencePieceTokenizer(TOKENS, new float[SIZE], types(),
            new SpecialTokens(BOS, EOS, new int[] {EOS}, true), 0, true);

    private DemoVocabulary() {}

    /** The tokenizer, identical to the one {@code Tokenizers.fromGguf} builds from the demo model's metadata. */
    public static Tokenizer tokenizer() {
        return TOKENIZER;
    }

    /** The pieces by id. */
    public static List<String> tokens() {
        return TOKENS;
    }

    private static List<String> buildTokens() {
        List<String> t = new ArrayList<>(SIZE);
        t.add("<unk>");
        t.add("<s>");
        t.add("</s>");
        for (int b = 0; b < 256; b++) {
            t.add(String.format("<0x%02X>", b));
        }
        t.add("\u2581");
        for (char c = '!'; c <= '~'; c++) {
            t.add(String.valueOf(c));
        }
        return List.copyOf(t);
    }

    /** Writes the {@code tokenizer.ggml.*} keys that describe this vocabulary, and the Q/A chat template. */
    public static void writeTo(GgufWriter w) {
        w.put("tokenizer.ggml.model", GgufValue.ofString("llama"));
        w.put("tokenizer.ggml.tokens", GgufValue.ofStrings(TOKENS.toArray(new String[0])));
        w.put("tokenizer.ggml.scores", GgufValue.ofFloats(new float[SIZE]));
        w.put("tokenizer.ggml.token_type", GgufValue.ofInt32s(types()));
        w.put("tokenizer.ggml.bos_token_id", GgufValue.ofUint32(BOS));
        w.put("tokenizer.ggml.eos_token_id", GgufValue.ofUint32(EOS));
        w.put("tokenizer.ggml.unknown_token_id", GgufValue.ofUint32(0));
        w.put("tokenizer.ggml.add_bos_token", GgufValue.ofBool(true));
        w.put("tokenizer.chat_template", GgufValue.ofString(DemoCorpus.CHAT_TEMPLATE));
    }

    private static int[] types() {
        int[] types = new int[SIZE];
        for (int i = 0; i < SIZE; i++) {
            types[i] = i == 0 ? TokenType.UNKNOWN : i < 3 ? TokenType.CONTROL : i < 259 ? TokenType.BYTE : TokenType.NORMAL;
        }
        return types;
    }
}
