package dev.gearbx.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gearbx.engine.gguf.GgufFile;
import dev.gearbx.engine.testing.TestModels;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class SentencePieceTokenizerTest {
    static GgufFile gguf;
    static Tokenizer tok;

    @BeforeAll
    static void load() {
        gguf = GgufFile.open(TestModels.stories260K());
        tok = Tokenizers.fromGguf(gguf.metadata());
    }

    @AfterAll
    static void close() {
        gguf.close();
    }

    @Test
    void promptTokenizesLikeLlamaCpp() {
        assertArrayEquals(new int[] {1, 403, 407, 261, 378}, tok.encode("Once upon a time"));
        assertEquals(512, tok.vocabularySize());
        assertTrue(tok.specialTokens().addBos());
        assertTrue(tok.isEndOfGeneration(2));
    }

    @Test
    void referenceContinuationDecodes() {
        int[] ids = {432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419,
            292, 411, 322, 265, 282, 295, 433, 426, 385, 328, 432, 358, 394};
        assertEquals(", there was a little girl named Lily. She loved to play outside in the park. One day, she saw",
                tok.decode(ids));
    }

    @Test
    void roundTripsTextIncludingBytesOutsideTheVocabulary() {
        for (String s : List.of("Lily went to the park.", "Tom said: \"Hi!\"\nThe end.", "naïve café ☕ 日本語 🙂",
                "  two  spaces ", "")) {
            int[] ids = tok.encode(s, false, false);
            String back = tok.decode(ids);
            assertEquals(" " + s, back.isEmpty() ? " " : back, "round trip of '" + s + "'");
        }
    }

    @Test
    void byteFallbackUsesByteTokens() {
        int[] ids = tok.encode("日", false, false);
        // "▁" then the three UTF-8 bytes of 日 (E6 97 A5) as <0xNN> pieces
        assertEquals("<0xE6>", tok.tokenText(ids[ids.length - 3]));
        assertEquals("<0x97>", tok.tokenText(ids[ids.length - 2]));
        assertEquals("<0xA5>", tok.tokenText(ids[ids.length - 1]));
    }

    @Test
    void streamingDecoderNeverSplitsACharacter() {
        int[] ids = tok.encode("a🙂b", false, false);
        StreamingDecoder d = new StreamingDecoder(tok);
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            String piece = d.next(id);
            assertTrue(piece.chars().noneMatch(c -> c == 0xFFFD), "no replacement characters in '" + piece + "'");
            if (!piece.isEmpty()) {
                assertTrue(!Character.isHighSurrogate(piece.charAt(piece.length() - 1)), "no dangling surrogate");
            }
            sb.append(piece);
        }
        sb.append(d.flush());
        assertEquals(" a🙂b", sb.toString());
    }

    @Test
    void specialTokensParsedOnlyWhenAsked() {
        int[] parsed = tok.encode("<s>Hi", false, true);
        assertEquals(1, parsed[0]);
        int[] plain = tok.encode("<s>Hi", false, false);
        assertTrue(plain[0] != 1 && plain.length > 2);
    }

    @Test
    void outOfRangeIdIsRejectedByValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tok.tokenBytes(512));
        assertTrue(e.getMessage().contains("512"), e.getMessage());
    }
}
