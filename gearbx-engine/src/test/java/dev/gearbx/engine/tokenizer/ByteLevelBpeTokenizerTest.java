package dev.gearbx.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link ByteLevelBpeTokenizer} on a small hand-made vocabulary (no files needed). */
class ByteLevelBpeTokenizerTest {

    private static final SpecialTokens NO_SPECIALS = new SpecialTokens(-1, -1, new int[0], false);

    /** 256 byte tokens (id = index in GPT-2's byte order), then merged tokens, then specials. */
    private static List<String> byteTokens() {
        List<String> tokens = new ArrayList<>();
        for (int b = 0; b < 256; b++) {
            tokens.add(ByteLevelBpeTokenizer.byteLevelEncode(new byte[] {(byte) b}));
        }
        return tokens;
    }

    private static int id(List<String> tokens, String text) {
        return tokens.indexOf(text);
    }

    private record Vocab(List<String> tokens, int[] types, List<String> merges) {}

    private static Vocab smallVocab() {
        List<String> tokens = byteTokens();
        List<String> merges = List.of("h e", "l l", "he ll", "hell o", "Ġ w", "o r", "Ġw or", "Ġwor l", "Ġworl d",
                "a a", "aa aa");
        for (String m : merges) {
            tokens.add(m.replace(" ", ""));
        }
        tokens.add("<|eot|>");
        tokens.add("<|eot|>x"); // a longer special sharing a prefix
        tokens.add("<tool>");
        int[] types = new int[tokens.size()];
        Arrays.fill(types, ByteLevelBpeTokenizer.TYPE_NORMAL);
        types[tokens.size() - 3] = ByteLevelBpeTokenizer.TYPE_CONTROL;
        types[tokens.size() - 2] = ByteLevelBpeTokenizer.TYPE_CONTROL;
        types[tokens.size() - 1] = ByteLevelBpeTokenizer.TYPE_USER_DEFINED;
        return new Vocab(tokens, types, merges);
    }

    private static ByteLevelBpeTokenizer small(PreTokenizer pre, SpecialTokens specials) {
        Vocab v = smallVocab();
        return new ByteLevelBpeTokenizer(v.tokens(), v.types(), v.merges(), pre, specials);
    }

    @Test
    void byteLevelAlphabet() {
        assertEquals("Ġ", ByteLevelBpeTokenizer.byteLevelEncode(new byte[] {' '}));
        assertEquals("Ċ", ByteLevelBpeTokenizer.byteLevelEncode(new byte[] {'\n'}));
        assertEquals("A", ByteLevelBpeTokenizer.byteLevelEncode(new byte[] {'A'}));
        byte[] all = new byte[256];
        for (int i = 0; i < 256; i++) {
            all[i] = (byte) i;
        }
        String mapped = ByteLevelBpeTokenizer.byteLevelEncode(all);
        assertEquals(256, mapped.chars().distinct().count());
        assertArrayEquals(all, ByteLevelBpeTokenizer.byteLevelDecode(mapped));
    }

    @Test
    void mergesByRank() {
        ByteLevelBpeTokenizer t = small(PreTokenizer.GPT2, NO_SPECIALS);
        List<String> tokens = smallVocab().tokens();
        assertArrayEquals(new int[] {id(tokens, "hello"), id(tokens, "Ġworld")}, t.encode("hello world", false, false));
        // "aaaaa": leftmost pair first on equal ranks -> aa aa a -> aaaa a
        assertArrayEquals(new int[] {id(tokens, "aaaa"), id(tokens, "a")}, t.encode("aaaaa", false, false));
        assertEquals("hello world", t.decode(t.encode("hello world", false, false)));
    }

    @Test
    void longWordMatchesNaiveBpe() {
        ByteLevelBpeTokenizer t = small(PreTokenizer.GPT2, NO_SPECIALS);
        Vocab v = smallVocab();
        Random r = new Random(3);
        for (int i = 0; i < 500; i++) {
            StringBuilder sb = new StringBuilder();
            int len = 1 + r.nextInt(i < 10 ? 5000 : 40);
            for (int k = 0; k < len; k++) {
                sb.append("helloa".charAt(r.nextInt(6)));
            }
            String word = sb.toString();
            assertArrayEquals(naiveBpe(v, word), t.bpe(word), word);
        }
    }

    /** The textbook O(n^2) BPE: repeatedly merge the lowest-ranked adjacent pair, leftmost first. */
    private static int[] naiveBpe(Vocab v, String word) {
        List<String> symbols = new ArrayList<>();
        for (byte b : word.getBytes(StandardCharsets.UTF_8)) {
            symbols.add(ByteLevelBpeTokenizer.byteLevelEncode(new byte[] {b}));
        }
        while (true) {
            int best = -1;
            int bestRank = Integer.MAX_VALUE;
            for (int i = 0; i + 1 < symbols.size(); i++) {
                int rank = v.merges().indexOf(symbols.get(i) + " " + symbols.get(i + 1));
                if (rank >= 0 && rank < bestRank) {
                    bestRank = rank;
                    best = i;
                }
            }
            if (best < 0) {
                break;
            }
            symbols.set(best, symbols.get(best) + symbols.remove(best + 1));
        }
        return symbols.stream().mapToInt(v.tokens()::indexOf).toArray();
    }

    @Test
    void specialTokensOnlyWhenAsked() {
        List<String> tokens = smallVocab().tokens();
        int eot = id(tokens, "<|eot|>");
        int eotX = id(tokens, "<|eot|>x");
        int tool = id(tokens, "<tool>");
        ByteLevelBpeTokenizer t = small(PreTokenizer.LLAMA3, new SpecialTokens(eot, eot, new int[] {eot}, true));
        assertArrayEquals(new int[] {id(tokens, "hello"), eot}, t.encode("hello<|eot|>", false, true));
        assertArrayEquals(new int[] {eotX, id(tokens, "hello")}, t.encode("<|eot|>xhello", false, true), "longest match first");
        assertArrayEquals(new int[] {tool}, t.encode("<tool>", false, true));
        int[] plain = t.encode("<|eot|><tool>", false, false);
        assertTrue(Arrays.stream(plain).noneMatch(i -> i == eot || i == tool || i == eotX));
        assertEquals("<|eot|><tool>", t.decode(plain));
        // BOS
        assertEquals(eot, t.encode("hello", true, false)[0]);
        assertEquals(eot, t.encode("hello")[0], "addBos from SpecialTokens");
        assertEquals(0, t.encode("", false, false).length);
        assertArrayEquals(new int[] {eot}, t.encode("", true, true));
    }

    @Test
    void tokenBytesByType() {
        List<String> tokens = smallVocab().tokens();
        ByteLevelBpeTokenizer t = small(PreTokenizer.GPT2, NO_SPECIALS);
        assertArrayEquals(" world".getBytes(StandardCharsets.UTF_8), t.tokenBytes(id(tokens, "Ġworld")));
        assertArrayEquals(new byte[0], t.tokenBytes(id(tokens, "<|eot|>")));
        assertArrayEquals("<tool>".getBytes(StandardCharsets.UTF_8), t.tokenBytes(id(tokens, "<tool>")));
        assertEquals("Ġworld", t.tokenText(id(tokens, "Ġworld")));
        byte[] b = t.tokenBytes(id(tokens, "hello"));
        b[0] = 'X';
        assertArrayEquals("hello".getBytes(StandardCharsets.UTF_8), t.tokenBytes(id(tokens, "hello")), "defensive copy");
    }

    @Test
    void outOfRangeIds() {
        ByteLevelBpeTokenizer t = small(PreTokenizer.GPT2, NO_SPECIALS);
        int size = t.vocabularySize();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.tokenBytes(size));
        assertTrue(e.getMessage().contains(String.valueOf(size)) && e.getMessage().contains("vocabulary of " + size));
        assertThrows(IllegalArgumentException.class, () -> t.tokenBytes(-1));
        assertThrows(IllegalArgumentException.class, () -> t.tokenText(size + 5));
    }

    @Test
    void validation() {
        Vocab v = smallVocab();
        IllegalArgumentException lengths = assertThrows(IllegalArgumentException.class, () ->
                new ByteLevelBpeTokenizer(v.tokens(), new int[3], v.merges(), PreTokenizer.GPT2, NO_SPECIALS));
        assertTrue(lengths.getMessage().contains("3") && lengths.getMessage().contains(String.valueOf(v.tokens().size())),
                lengths.getMessage());

        List<String> badMerges = new ArrayList<>(v.merges());
        badMerges.add("Ġ zz");
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () ->
                new ByteLevelBpeTokenizer(v.tokens(), v.types(), badMerges, PreTokenizer.GPT2, NO_SPECIALS));
        assertTrue(unknown.getMessage().contains("#" + v.merges().size()) && unknown.getMessage().contains("Ġ zz"),
                unknown.getMessage());

        List<String> noResult = List.of("x y");
        IllegalArgumentException result = assertThrows(IllegalArgumentException.class, () ->
                new ByteLevelBpeTokenizer(v.tokens(), v.types(), noResult, PreTokenizer.GPT2, NO_SPECIALS));
        assertTrue(result.getMessage().contains("#0") && result.getMessage().contains("xy"), result.getMessage());

        assertThrows(IllegalArgumentException.class, () -> new ByteLevelBpeTokenizer(v.tokens(), v.types(),
                List.of("nospace"), PreTokenizer.GPT2, NO_SPECIALS));
        assertThrows(IllegalArgumentException.class, () -> new ByteLevelBpeTokenizer(v.tokens(), v.types(),
                v.merges(), PreTokenizer.GPT2, new SpecialTokens(v.tokens().size(), -1, new int[0], true)));
    }

    @Test
    void nullTokenTypesMakeBosAndEosControl() {
        Vocab v = smallVocab();
        int eot = v.tokens().indexOf("<|eot|>");
        ByteLevelBpeTokenizer t = new ByteLevelBpeTokenizer(v.tokens(), null, v.merges(), PreTokenizer.GPT2,
                new SpecialTokens(eot, eot, new int[] {eot}, false));
        assertEquals(ByteLevelBpeTokenizer.TYPE_CONTROL, t.tokenType(eot));
        assertEquals(0, t.tokenBytes(eot).length);
        assertArrayEquals(new int[] {eot}, t.encode("<|eot|>", false, true));
    }

    @Test
    void preTokenizerNames() {
        assertSame(PreTokenizer.LLAMA3, PreTokenizer.fromGgufName("llama-bpe"));
        assertSame(PreTokenizer.LLAMA3, PreTokenizer.fromGgufName("llama3"));
        assertSame(PreTokenizer.LLAMA3, PreTokenizer.fromGgufName("smaug-bpe"));
        assertSame(PreTokenizer.QWEN2, PreTokenizer.fromGgufName("qwen2"));
        assertSame(PreTokenizer.GPT2, PreTokenizer.fromGgufName("gpt-2"));
        assertSame(PreTokenizer.GPT2, PreTokenizer.fromGgufName("default"));
        assertSame(PreTokenizer.GPT2, PreTokenizer.fromGgufName(null));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PreTokenizer.fromGgufName("tekken"));
        assertTrue(e.getMessage().contains("\"tekken\"") && e.getMessage().contains("llama-bpe")
                && e.getMessage().contains("qwen2") && e.getMessage().contains("gpt-2"), e.getMessage());
    }

    @Test
    void splits() {
        assertEquals(List.of("Hello", ",", " world", "!"), PreTokenizer.GPT2.split("Hello, world!"));
        assertEquals(List.of("123", "456", "7"), PreTokenizer.LLAMA3.split("1234567"));
        assertEquals(List.of("1", "2", "3"), PreTokenizer.QWEN2.split("123"));
        assertEquals(List.of("DON", "'T"), PreTokenizer.LLAMA3.split("DON'T"));
        assertEquals(List.of("DON", "'", "T"), PreTokenizer.GPT2.split("DON'T"));
        assertEquals(List.of("a", "  ", " b", "\n\n"), PreTokenizer.LLAMA3.split("a   b\n\n"));
    }
}
