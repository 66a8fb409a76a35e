package dev.gearbx.engine.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import org.jspecify.annotations.Nullable;

/**
 * SentencePiece BPE with scores and byte fallback, as GGUF's {@code tokenizer.ggml.model = "llama"}
 * (Llama 2, Mistral, TinyLlama, TinyStories). Spaces become {@code ▁}, a space is prefixed to
 * the text (and after each special token), then adjacent symbols are merged greedily by the score of
 * the merged piece (highest first, leftmost on ties); symbols left outside the vocabulary fall back
 * to {@code <0xNN>} byte tokens, or UNK.
 */
public final class SentencePieceTokenizer implements Tokenizer {
    private static final char SPACE_MARK = '\u2581';

    private final String[] tokens;
    private final float[] scores;
    private final int[] types;
    private final Map<String, Integer> ids;
    private final int[] byteTokens = new int[256];
    private final byte[][] decoded;
    private final SpecialTokens special;
    private final int unknownId;
    private final boolean addSpacePrefix;
    private final SpecialTokenMatcher specialMatcher;

    /**
     * @param tokens pieces by id ({@code tokenizer.ggml.tokens})
     * @param scores merge scores by id ({@code tokenizer.ggml.scores})
     * @param types {@link TokenType} by id, or null when the file has none (all NORMAL, byte pieces
     *     recognised by their {@code <0xNN>} form)
     * @param unknownId id of the UNK token, or -1
     * @param addSpacePrefix prefix a space to the text ({@code tokenizer.ggml.add_space_prefix},
     *     default true)
     */
    public SentencePieceTokenizer(List<String> tokens, float[] scores, int @Nullable [] types, SpecialTokens special,
            int unknownId, boolean addSpacePrefix) {
        int n = tokens.size();
        if (scores.length != n) {
            throw new IllegalArgumentException("tokenizer.ggml.scores has " + scores.length + " entries but there are " + n + " tokens");
        }
        if (types != null && types.length != n) {
            throw new IllegalArgumentException("tokenizer.ggml.token_type has " + types.length + " entries but there are " + n + " tokens");
        }
        this.tokens = tokens.toArray(new String[0]);
        this.scores = scores.clone();
        this.types = new int[n];
        this.ids = HashMap.newHashMap(n);
        Arrays.fill(byteTokens, -1);
        this.decoded = new byte[n][];
        for (int i = 0; i < n; i++) {
            String t = this.tokens[i];
            int type = types != null ? types[i] : isBytePiece(t) ? TokenType.BYTE : TokenType.NORMAL;
            this.types[i] = type;
            ids.putIfAbsent(t, i);
            if (type == TokenType.BYTE && isBytePiece(t)) {
                int b = Integer.parseInt(t, 3, 5, 16);
                byteTokens[b] = i;
                decoded[i] = new byte[] {(byte) b};
            } else if (type == TokenType.CONTROL || type == TokenType.UNKNOWN || type == TokenType.UNUSED) {
                decoded[i] = new byte[0];
            } else {
                decoded[i] = t.replace(SPACE_MARK, ' ').getBytes(StandardCharsets.UTF_8);
            }
        }
        checkId("bos", special.bos(), n);
        checkId("eos", special.eos(), n);
        checkId("unknown", unknownId, n);
        this.special = special;
        this.unknownId = unknownId;
        this.addSpacePrefix = addSpacePrefix;
        this.specialMatcher = SpecialTokenMatcher.of(this.tokens, this.types);
    }

    private static void checkId(String what, int id, int n) {
        if (id < -1 || id >= n) {
            throw new IllegalArgumentException(what + " token id " + id + " is outside the vocabulary of " + n);
        }
    }

    private static boolean isBytePiece(String t) {
        return t.length() == 6 && t.startsWith("<0x") && t.endsWith(">")
                && Character.digit(t.charAt(3), 16) >= 0 && Character.digit(t.charAt(4), 16) >= 0;
    }

    @Override
    public int vocabularySize() {
        return tokens.length;
    }

    @Override
    public SpecialTokens specialTokens() {
        return special;
    }

    @Override
    public String tokenText(int tokenId) {
        checkToken(tokenId);
        return tokens[tokenId];
    }

    @Override
    public byte[] tokenBytes(int tokenId) {
        checkToken(tokenId);
        return decoded[tokenId].clone();
    }

    /** The piece's merge score. */
    public float score(int tokenId) {
        checkToken(tokenId);
        return scores[tokenId];
    }

    private void checkToken(int tokenId) {
        if (tokenId < 0 || tokenId >= tokens.length) {
            throw new IllegalArgumentException("token id " + tokenId + " is outside the vocabulary of " + tokens.length);
        }
    }

    @Override
    public int[] encode(String text, boolean addBos, boolean parseSpecial) {
        IntBuffer out = new IntBuffer();
        if (addBos && special.bos() >= 0) {
            out.add(special.bos());
        }
        boolean previousWasSpecial = true; // the text's start counts as "after a special token"
        for (SpecialTokenMatcher.Fragment f : specialMatcher.split(text, parseSpecial)) {
            if (f.tokenId() >= 0) {
                out.add(f.tokenId());
                previousWasSpecial = true;
                continue;
            }
            if (f.text().isEmpty()) {
                continue; // empty text has no tokens (no lone dummy-prefix space), as in llama.cpp and Hugging Face
            }
            String raw = addSpacePrefix && previousWasSpecial ? " " + f.text() : f.text();
            encodeFragment(raw.replace(' ', SPACE_MARK), out);
            previousWasSpecial = false;
        }
        return out.toArray();
    }

    /** A symbol of the merge loop: a span of the text, linked to its neighbours. */
    private static final class Symbol {
        int start;
        int length;
        int prev;
        int next;
    }

    private record Bigram(int left, int right, float score, int length) {}

    private void encodeFragment(String text, IntBuffer out) {
        if (text.isEmpty()) {
            return;
        }
        // one symbol per code point
        List<Symbol> symbols = new ArrayList<>(text.length());
        for (int i = 0; i < text.length(); ) {
            Symbol s = new Symbol();
            s.start = i;
            s.length = Character.charCount(text.codePointAt(i));
            s.prev = symbols.size() - 1;
            s.next = symbols.size() + 1;
            symbols.add(s);
            i += s.length;
        }
        symbols.getLast().next = -1;
        // highest score first; on equal scores, the leftmost pair
        PriorityQueue<Bigram> queue = new PriorityQueue<>((a, b) ->
                a.score != b.score ? Float.compare(b.score, a.score) : Integer.compare(a.left, b.left));
        for (int i = 1; i < symbols.size(); i++) {
            tryAddBigram(text, symbols, i - 1, i, queue);
        }
        while (!queue.isEmpty()) {
            Bigram bg = queue.poll();
            Symbol left = symbols.get(bg.left);
            Symbol right = symbols.get(bg.right);
            // skip pairs made stale by an earlier merge
            if (left.length == 0 || right.length == 0 || left.length + right.length != bg.length) {
                continue;
            }
            left.length += right.length;
            right.length = 0;
            left.next = right.next;
            if (right.next >= 0) {
                symbols.get(right.next).prev = bg.left;
            }
            if (left.prev >= 0) {
                tryAddBigram(text, symbols, left.prev, bg.left, queue);
            }
            if (left.next >= 0) {
                tryAddBigram(text, symbols, bg.left, left.next, queue);
            }
        }
        for (int i = 0; i >= 0; i = symbols.get(i).next) {
            Symbol s = symbols.get(i);
            String piece = text.substring(s.start, s.start + s.length);
            Integer id = ids.get(piece);
            if (id != null) {
                out.add(id);
                continue;
            }
            // byte fallback: one <0xNN> token per UTF-8 byte, UNK if the vocabulary lacks it
            for (byte b : piece.getBytes(StandardCharsets.UTF_8)) {
                int bt = byteTokens[b & 0xFF];
                out.add(bt >= 0 ? bt : unknownId >= 0 ? unknownId : 0);
            }
        }
    }

    private void tryAddBigram(String text, List<Symbol> symbols, int l, int r, PriorityQueue<Bigram> queue) {
        Symbol left = symbols.get(l);
        Symbol right = symbols.get(r);
        String merged = text.substring(left.start, left.start + left.length + right.length);
        Integer id = ids.get(merged);
        if (id != null) {
            queue.add(new Bigram(l, r, scores[id], merged.length()));
        }
    }
}
