package dev.gearbx.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gearbx.engine.tokenizer.HfTokenizerFiles.Model;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Compares {@link ByteLevelBpeTokenizer} built from real Llama 3 and Qwen3 vocabularies with Hugging
 * Face's Rust {@code tokenizers} (through DJL) on the same files.
 */
class ByteLevelBpeDifferentialTest {

    static final int FUZZ_COUNT = 4000;

    @ParameterizedTest
    @EnumSource(Model.class)
    void handPickedCorpusMatchesHuggingFace(Model model) {
        assertMatches(model, TokenizerCorpus.handPicked());
    }

    @ParameterizedTest
    @EnumSource(Model.class)
    void unicodeFuzzMatchesHuggingFace(Model model) {
        assertMatches(model, TokenizerCorpus.fuzz(20240607L, FUZZ_COUNT));
    }

    /**
     * Hugging Face always matches added tokens in the text (also with special tokens not added), so
     * it is the reference for {@code parseSpecial = true}: fuzz strings with added tokens spliced in.
     */
    @ParameterizedTest
    @EnumSource(Model.class)
    void parseSpecialFuzzMatchesHuggingFace(Model model) {
        ByteLevelBpeTokenizer ours = HfTokenizerFiles.ours(model);
        List<String> added = new ArrayList<>();
        for (int id = 0; id < ours.vocabularySize(); id++) {
            int type = ours.tokenType(id);
            if (type == ByteLevelBpeTokenizer.TYPE_CONTROL || type == ByteLevelBpeTokenizer.TYPE_USER_DEFINED) {
                added.add(ours.tokenText(id));
            }
        }
        Random r = new Random(11);
        List<String> texts = new ArrayList<>();
        for (String base : TokenizerCorpus.fuzz(99L, 1000)) {
            StringBuilder sb = new StringBuilder(base);
            for (int k = r.nextInt(4); k >= 0; k--) {
                int at = sb.offsetByCodePoints(0, r.nextInt(sb.codePointCount(0, sb.length()) + 1));
                String special = added.get(r.nextInt(added.size()));
                sb.insert(at, r.nextBoolean() ? special : " " + special + "\n");
            }
            texts.add(sb.toString());
        }
        assertMatches(model, texts, true);
    }

    private static void assertMatches(Model model, List<String> texts) {
        assertMatches(model, texts, false);
    }

    private static void assertMatches(Model model, List<String> texts, boolean parseSpecial) {
        ByteLevelBpeTokenizer ours = HfTokenizerFiles.ours(model);
        List<String> mismatches = new ArrayList<>();
        for (String text : texts) {
            int[] expected = HfTokenizerFiles.referenceIds(model, text);
            int[] actual = ours.encode(text, false, parseSpecial);
            if (!Arrays.equals(expected, actual)) {
                mismatches.add(escape(text) + "\n    hf:   " + Arrays.toString(expected)
                        + "\n    ours: " + Arrays.toString(actual));
            }
        }
        assertTrue(mismatches.isEmpty(), model + ": " + mismatches.size() + " of " + texts.size()
                + " texts differ from Hugging Face, first ones:\n"
                + mismatches.stream().limit(15).collect(Collectors.joining("\n")));
    }

    /**
     * Every normal vocabulary token whose text the pre-tokenizer keeps as one word must encode the
     * way Hugging Face encodes it (for Llama 3 that is the token itself, even where the merges
     * would not reach it: {@code ignore_merges}).
     */
    @ParameterizedTest
    @EnumSource(Model.class)
    void vocabularyWordsMatchHuggingFace(Model model) {
        ByteLevelBpeTokenizer ours = HfTokenizerFiles.ours(model);
        List<String> texts = new ArrayList<>();
        CharsetDecoder strict = StandardCharsets.UTF_8.newDecoder();
        for (int id = 0; id < ours.vocabularySize(); id++) {
            if (ours.tokenType(id) != ByteLevelBpeTokenizer.TYPE_NORMAL) {
                continue;
            }
            try {
                String text = strict.decode(ByteBuffer.wrap(ours.tokenBytes(id))).toString();
                if (ours.preTokenizer().split(ours.preTokenizer().normalize(text)).size() == 1) {
                    texts.add(text);
                }
            } catch (CharacterCodingException partialCharacter) {
                // not text on its own
            }
        }
        assertTrue(texts.size() > ours.vocabularySize() / 2, "only " + texts.size() + " single-word tokens");
        assertMatches(model, texts);
    }

    @ParameterizedTest
    @EnumSource(Model.class)
    void decodeInvertsEncode(Model model) {
        ByteLevelBpeTokenizer ours = HfTokenizerFiles.ours(model);
        List<String> texts = new ArrayList<>(TokenizerCorpus.handPicked());
        texts.addAll(TokenizerCorpus.fuzz(7L, FUZZ_COUNT));
        List<String> failures = new ArrayList<>();
        for (String text : texts) {
            // Qwen's tokenizer NFC-normalizes its input, so that is what comes back
            String expected = ours.preTokenizer().normalizesNfc() ? Normalizer.normalize(text, Normalizer.Form.NFC) : text;
            String decoded = ours.decode(ours.encode(text, false, false));
            if (!expected.equals(decoded)) {
                failures.add(escape(text) + " -> " + escape(decoded));
            }
        }
        assertTrue(failures.isEmpty(), failures.size() + " round trips failed:\n"
                + failures.stream().limit(15).collect(Collectors.joining("\n")));
    }

    @Test
    void llama3HelloWorldKnownIds() {
        int[] ids = HfTokenizerFiles.ours(Model.LLAMA3).encode("Hello world", false, false);
        assertArrayEquals(new int[] {9906, 1917}, ids);
        assertArrayEquals(HfTokenizerFiles.referenceIds(Model.LLAMA3, "Hello world"), ids);
        int[] withBos = HfTokenizerFiles.ours(Model.LLAMA3).encode("Hello world");
        assertArrayEquals(new int[] {128000, 9906, 1917}, withBos);
    }

    @Test
    void qwen3HasNoBos() {
        ByteLevelBpeTokenizer qwen = HfTokenizerFiles.ours(Model.QWEN3);
        assertArrayEquals(qwen.encode("Hello world", false, false), qwen.encode("Hello world", true, false));
    }

    @Test
    void parseSpecialLlama3() {
        ByteLevelBpeTokenizer llama = HfTokenizerFiles.ours(Model.LLAMA3);
        String text = "<|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>";
        int[] special = llama.encode(text, false, true);
        assertArrayEquals(HfTokenizerFiles.referenceIds(Model.LLAMA3, text), special);
        assertEquals(128006, special[0]);
        assertEquals(128009, special[special.length - 1]);
        assertTrue(llama.isEndOfGeneration(128009));

        int[] plain = llama.encode("<|eot_id|>", false, false);
        assertTrue(plain.length > 1, "as plain text <|eot_id|> is several tokens");
        assertFalse(Arrays.stream(plain).anyMatch(id -> id >= 128000));
        assertEquals("<|eot_id|>", llama.decode(plain));
        assertArrayEquals(new int[] {128009}, llama.encode("<|eot_id|>", false, true));
        // control tokens detokenize to nothing
        assertEquals(0, llama.tokenBytes(128009).length);
        assertEquals("<|eot_id|>", llama.tokenText(128009));
    }

    @Test
    void parseSpecialQwen3() {
        ByteLevelBpeTokenizer qwen = HfTokenizerFiles.ours(Model.QWEN3);
        String text = "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n<think>\nsimple\n</think>\n\n4<|im_end|>";
        int[] special = qwen.encode(text, false, true);
        assertArrayEquals(HfTokenizerFiles.referenceIds(Model.QWEN3, text), special);
        int imEnd = 151645;
        assertEquals(imEnd, special[special.length - 1]);
        int[] plain = qwen.encode("<|im_end|>", false, false);
        assertFalse(Arrays.stream(plain).anyMatch(id -> id == imEnd));
        assertEquals("<|im_end|>", qwen.decode(plain));
        // user-defined tokens (<think>) detokenize to their text
        int think = 151667;
        assertEquals("<think>", qwen.decode(new int[] {think}));
        // longest match first: "<|fim_pad|>" is not cut into a shorter special
        assertArrayEquals(HfTokenizerFiles.referenceIds(Model.QWEN3, "a<|fim_pad|><|fim_prefix|>b"),
                qwen.encode("a<|fim_pad|><|fim_prefix|>b", false, true));
    }

    @ParameterizedTest
    @EnumSource(Model.class)
    void streamingDecoderNeverSplitsACharacter(Model model) {
        ByteLevelBpeTokenizer t = HfTokenizerFiles.ours(model);
        String text = "Family: 👨‍👩‍👧‍👦, thumbs 👍🏽, flag 🇯🇵, rare 𓀀𠀀 and 😀😃.";
        int[] ids = t.encode(text, false, false);
        boolean sawPartial = false;
        StreamingDecoder decoder = new StreamingDecoder(t);
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            byte[] b = t.tokenBytes(id);
            if (StreamingDecoder.completePrefixLength(b) != b.length || (b.length > 0 && (b[0] & 0xC0) == 0x80)) {
                sawPartial = true;
            }
            String chunk = decoder.next(id);
            assertFalse(chunk.contains("\uFFFD"), "chunk with a broken character: " + escape(chunk));
            if (!chunk.isEmpty()) {
                assertFalse(Character.isLowSurrogate(chunk.charAt(0)) || Character.isHighSurrogate(chunk.charAt(chunk.length() - 1)));
            }
            sb.append(chunk);
        }
        sb.append(decoder.flush());
        assertTrue(sawPartial, "the test text should have a token holding part of a character");
        assertEquals(text, sb.toString());
    }

    @ParameterizedTest
    @EnumSource(Model.class)
    void encodes100KbQuickly(Model model) {
        ByteLevelBpeTokenizer t = HfTokenizerFiles.ours(model);
        String text = englishText(100_000, new Random(1));
        for (int i = 0; i < 3; i++) {
            t.encode(text, false, false);
        }
        long best = Long.MAX_VALUE;
        int[] ids = null;
        for (int i = 0; i < 3; i++) {
            long start = System.nanoTime();
            ids = t.encode(text, false, false);
            best = Math.min(best, System.nanoTime() - start);
        }
        assertArrayEquals(HfTokenizerFiles.referenceIds(model, text), ids);
        assertTrue(best < 500_000_000L, "encoding 100 KB took " + best / 1_000_000 + " ms");
        // a fresh text (no warm word cache) must be fast too
        String other = englishText(100_000, new Random(2)).toUpperCase();
        long start = System.nanoTime();
        t.encode(other, false, false);
        long cold = System.nanoTime() - start;
        assertTrue(cold < 1_000_000_000L, "encoding 100 KB of new words took " + cold / 1_000_000 + " ms");
    }

    /** Long runs that could make a regex backtrack or a BPE rescan quadratically. */
    @ParameterizedTest
    @EnumSource(Model.class)
    void pathologicalInputsStayLinearish(Model model) {
        ByteLevelBpeTokenizer t = HfTokenizerFiles.ours(model);
        String[] inputs = {" ".repeat(100_000), " \t".repeat(50_000), "a".repeat(100_000), "ab".repeat(50_000),
            "7".repeat(100_000), "!".repeat(100_000), "\n".repeat(100_000), "😀".repeat(25_000),
            "\u00A0 ".repeat(50_000) + "x", "e\u0301".repeat(50_000)};
        for (String text : inputs) {
            t.encode(text, false, true); // warm up
            long start = System.nanoTime();
            int[] ids = t.encode(text, false, true);
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertTrue(ms < 1000, "encoding " + escape(text.substring(0, 4)) + "... took " + ms + " ms");
            assertEquals(t.preTokenizer().normalize(text), t.decode(ids));
        }
    }

    static String englishText(int chars, Random r) {
        String[] words = ("the of and to in is was that for it with as his on be at by had are but from or have"
                + " an they which one you were all we her she there would their will when who him been has more"
                + " if no out so what up said can its about into than them only other new some could time these"
                + " two may first then do any like my now over such our man me even most made after also did"
                + " many before must through back years where much your way well down should because each just"
                + " those people how too little state good very make world still own see men work long get here"
                + " between both life being under never day same another know while last might us great old year"
                + " tokenizer transformer inference quantization gradient embedding").split(" ");
        StringBuilder sb = new StringBuilder(chars + 100);
        int sentence = 0;
        while (sb.length() < chars) {
            String w = words[r.nextInt(words.length)];
            if (sentence == 0) {
                w = Character.toUpperCase(w.charAt(0)) + w.substring(1);
            }
            sb.append(w);
            sentence++;
            if (r.nextInt(40) == 0) {
                sb.append(' ').append(r.nextInt(100_000));
            }
            if (sentence > 6 && r.nextInt(8) == 0) {
                sb.append(r.nextInt(5) == 0 ? ",\n" : r.nextInt(20) == 0 ? ".\n\n" : ". ");
                sentence = 0;
            } else {
                sb.append(r.nextInt(15) == 0 ? ", " : " ");
            }
        }
        return sb.toString();
    }

    static String escape(String s) {
        StringBuilder sb = new StringBuilder("\"");
        s.codePoints().forEach(cp -> {
            if (cp >= 0x20 && cp < 0x7F && cp != '"' && cp != '\\') {
                sb.append((char) cp);
            } else {
                sb.append(String.format("\\u{%X}", cp));
            }
        });
        return sb.append('"').toString();
    }
}
