package dev.gearbx.engine.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import org.jspecify.annotations.Nullable;

/**
 * GPT-2 style byte-level BPE ({@code tokenizer.ggml.model = "gpt2"}): Llama 3, Qwen2/Qwen3, GPT-2
 * and their relatives.
 *
 * <p>Encoding: optional special-token matching on the raw text, then per plain segment the
 * pre-tokenizer's normalization and split regex, then each word's UTF-8 bytes are mapped to the
 * byte-level alphabet and merged by rank (a heap over a linked list of symbols: O(n log n) per
 * word). Thread-safe: the only mutable state is a bounded concurrent word cache (words of up to 64
 * chars; once full, later words are not cached, as in Hugging Face's BPE).
 *
 * <p>Control (type 3) and user-defined (type 4) tokens are matched in the raw text, longest first,
 * only when {@code parseSpecial} is true. (Hugging Face and llama.cpp also match user-defined tokens
 * such as Qwen's {@code <think>} when special parsing is off; here they are then plain text.) A
 * byte whose single-byte token is missing from the vocabulary is dropped, as Hugging Face does for
 * a BPE model without an unknown token; the vocabularies this class is meant for have all 256.
 */
public final class ByteLevelBpeTokenizer implements Tokenizer {

    /** {@code tokenizer.ggml.token_type} values. */
    static final int TYPE_NORMAL = 1;
    static final int TYPE_UNKNOWN = 2;
    static final int TYPE_CONTROL = 3;
    static final int TYPE_USER_DEFINED = 4;
    static final int TYPE_UNUSED = 5;
    static final int TYPE_BYTE = 6;

    private static final int CACHE_CAPACITY = 16_384;
    private static final int CACHE_MAX_WORD_LENGTH = 64;

    /** byte value -> code point of its byte-level character. */
    private static final char[] BYTE_TO_CHAR = new char[256];
    /** code point (below 324) -> byte value, or -1. */
    private static final int[] CHAR_TO_BYTE = new int[324];

    static {
        Arrays.fill(CHAR_TO_BYTE, -1);
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (256 + n++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private final List<String> tokens;
    private final int[] types;
    private final byte[][] bytesById;
    private final SpecialTokens specialTokens;
    private final PreTokenizer preTokenizer;

    /** Normal (mergeable) tokens by their byte-level string. */
    private final Map<String, Integer> normalIds;
    /** byte value -> id of its single-byte token, or -1 when the vocabulary lacks it. */
    private final int[] byteIds = new int[256];
    private final PairRanks ranks;
    /** rank -> id of the merged token. */
    private final int[] mergeResult;

    /** Control and user-defined tokens by first char, each list longest first. */
    private final Map<Character, SpecialCandidate[]> specialsByFirstChar;

    private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();

    private record SpecialCandidate(String text, int id) {}

    /**
     * Builds the tokenizer from GGUF metadata as stored.
     *
     * @param tokens {@code tokenizer.ggml.tokens}: byte-level strings, id = index
     * @param tokenTypes {@code tokenizer.ggml.token_type} (1 normal, 2 unknown, 3 control, 4
     *     user-defined, 5 unused, 6 byte), or null: then every token is normal except the BOS, EOS
     *     and end-of-generation ids of {@code specialTokens}, which are control
     * @param merges {@code tokenizer.ggml.merges}: {@code "left right"} pairs, highest priority first
     * @param preTokenizer from {@code tokenizer.ggml.pre}, see {@link PreTokenizer#fromGgufName}
     * @param specialTokens BOS/EOS/end-of-generation ids
     * @throws IllegalArgumentException on inconsistent data (type array length, merges naming
     *     tokens that are not in the vocabulary, special ids out of range)
     */
    public ByteLevelBpeTokenizer(
            List<String> tokens,
            int @Nullable [] tokenTypes,
            List<String> merges,
            PreTokenizer preTokenizer,
            SpecialTokens specialTokens) {
        int size = tokens.size();
        if (size == 0) {
            throw new IllegalArgumentException("empty vocabulary");
        }
        if (tokenTypes != null && tokenTypes.length != size) {
            throw new IllegalArgumentException("tokenizer.ggml.token_type has " + tokenTypes.length
                    + " entries but tokenizer.ggml.tokens has " + size);
        }
        this.tokens = List.copyOf(tokens);
        this.preTokenizer = preTokenizer;
        this.specialTokens = specialTokens;
        checkSpecialId("bos", specialTokens.bos(), size);
        checkSpecialId("eos", specialTokens.eos(), size);
        for (int id : specialTokens.endOfGeneration()) {
            checkSpecialId("end-of-generation", id, size);
        }

        this.types = new int[size];
        if (tokenTypes != null) {
            System.arraycopy(tokenTypes, 0, types, 0, size);
        } else {
            Arrays.fill(types, TYPE_NORMAL);
            for (int id : new int[] {specialTokens.bos(), specialTokens.eos()}) {
                if (id >= 0) {
                    types[id] = TYPE_CONTROL;
                }
            }
            for (int id : specialTokens.endOfGeneration()) {
                types[id] = TYPE_CONTROL;
            }
        }

        this.normalIds = HashMap.newHashMap(size);
        this.bytesById = new byte[size][];
        Arrays.fill(byteIds, -1);
        Map<Character, List<SpecialCandidate>> specials = new HashMap<>();
        for (int id = 0; id < size; id++) {
            String text = this.tokens.get(id);
            switch (types[id]) {
                case TYPE_CONTROL -> {
                    bytesById[id] = new byte[0];
                    addSpecial(specials, text, id);
                }
                case TYPE_USER_DEFINED -> {
                    bytesById[id] = text.getBytes(StandardCharsets.UTF_8);
                    addSpecial(specials, text, id);
                }
                default -> {
                    bytesById[id] = byteLevelDecode(text);
                    if (types[id] == TYPE_NORMAL || types[id] == TYPE_BYTE) {
                        normalIds.putIfAbsent(text, id);
                    }
                }
            }
        }
        for (int b = 0; b < 256; b++) {
            Integer id = normalIds.get(String.valueOf(BYTE_TO_CHAR[b]));
            byteIds[b] = id == null ? -1 : id;
        }
        this.specialsByFirstChar = new HashMap<>();
        specials.forEach((c, list) -> {
            list.sort(Comparator.comparingInt((SpecialCandidate s) -> s.text().length()).reversed());
            specialsByFirstChar.put(c, list.toArray(SpecialCandidate[]::new));
        });

        this.ranks = new PairRanks(merges.size());
        this.mergeResult = new int[merges.size()];
        int rank = 0;
        for (int i = 0; i < merges.size(); i++) {
            String merge = merges.get(i);
            int[] pair = parseMerge(i, merge);
            if (ranks.putIfAbsent(pair[0], pair[1], rank)) {
                mergeResult[rank] = pair[2];
                rank++;
            }
        }
    }

    private static void checkSpecialId(String what, int id, int size) {
        if (id < -1 || id >= size) {
            throw new IllegalArgumentException(
                    what + " token id " + id + " is outside the vocabulary of " + size + " tokens");
        }
    }

    private static void addSpecial(Map<Character, List<SpecialCandidate>> specials, String text, int id) {
        if (!text.isEmpty()) {
            specials.computeIfAbsent(text.charAt(0), c -> new ArrayList<>()).add(new SpecialCandidate(text, id));
        }
    }

    /** Returns {left id, right id, merged id}. */
    private int[] parseMerge(int index, String merge) {
        // byte-level tokens never contain a space (it is 'Ġ'), so the first space separates the
        // pair; still try later spaces in case a vocabulary has tokens with literal spaces
        int space = merge.indexOf(' ');
        if (space < 0) {
            throw new IllegalArgumentException("merge #" + index + " \"" + merge + "\" is not two tokens separated by a space");
        }
        @Nullable String firstUnknown = null;
        for (; space >= 0; space = merge.indexOf(' ', space + 1)) {
            String left = merge.substring(0, space);
            String right = merge.substring(space + 1);
            Integer l = normalIds.get(left);
            Integer r = normalIds.get(right);
            if (l != null && r != null) {
                Integer m = normalIds.get(left + right);
                if (m == null) {
                    throw new IllegalArgumentException("merge #" + index + " \"" + merge
                            + "\": the merged token \"" + left + right + "\" is not in the vocabulary");
                }
                return new int[] {l, r, m};
            }
            if (firstUnknown == null) {
                firstUnknown = l == null ? left : right;
            }
        }
        throw new IllegalArgumentException("merge #" + index + " \"" + merge + "\" names token \""
                + firstUnknown + "\", which is not a normal token of the vocabulary");
    }

    // ---------------------------------------------------------------- Tokenizer

    @Override
    public int vocabularySize() {
        return tokens.size();
    }

    @Override
    public SpecialTokens specialTokens() {
        return specialTokens;
    }

    /** The pre-tokenizer this tokenizer splits text with. */
    public PreTokenizer preTokenizer() {
        return preTokenizer;
    }

    /** The {@code tokenizer.ggml.token_type} of a token (1 normal ... 6 byte). */
    public int tokenType(int tokenId) {
        checkId(tokenId);
        return types[tokenId];
    }

    @Override
    public byte[] tokenBytes(int tokenId) {
        checkId(tokenId);
        return bytesById[tokenId].clone();
    }

    @Override
    public String tokenText(int tokenId) {
        checkId(tokenId);
        return tokens.get(tokenId);
    }

    private void checkId(int tokenId) {
        if (tokenId < 0 || tokenId >= tokens.size()) {
            throw new IllegalArgumentException(
                    "token id " + tokenId + " is outside the vocabulary of " + tokens.size() + " tokens");
        }
    }

    @Override
    public int[] encode(String text, boolean addBos, boolean parseSpecial) {
        IntList out = new IntList(Math.max(16, text.length() / 3));
        if (addBos && specialTokens.bos() >= 0) {
            out.add(specialTokens.bos());
        }
        if (!parseSpecial || specialsByFirstChar.isEmpty()) {
            encodePlain(text, out);
            return out.toArray();
        }
        int segmentStart = 0;
        int i = 0;
        int n = text.length();
        while (i < n) {
            SpecialCandidate[] candidates = specialsByFirstChar.get(text.charAt(i));
            @Nullable SpecialCandidate match = null;
            if (candidates != null) {
                for (SpecialCandidate c : candidates) {
                    if (text.startsWith(c.text(), i)) {
                        match = c; // longest first
                        break;
                    }
                }
            }
            if (match == null) {
                i++;
                continue;
            }
            if (i > segmentStart) {
                encodePlain(text.substring(segmentStart, i), out);
            }
            out.add(match.id());
            i += match.text().length();
            segmentStart = i;
        }
        if (segmentStart < n) {
            encodePlain(segmentStart == 0 ? text : text.substring(segmentStart), out);
        }
        return out.toArray();
    }

    private void encodePlain(String text, IntList out) {
        if (text.isEmpty()) {
            return;
        }
        String normalized = preTokenizer.normalize(text);
        Matcher m = preTokenizer.pattern().matcher(normalized);
        int last = 0;
        while (m.find()) {
            if (m.start() > last) {
                encodeWord(normalized.substring(last, m.start()), out);
            }
            encodeWord(normalized.substring(m.start(), m.end()), out);
            last = m.end();
        }
        if (last < normalized.length()) {
            encodeWord(normalized.substring(last), out);
        }
    }

    private void encodeWord(String word, IntList out) {
        boolean cacheable = word.length() <= CACHE_MAX_WORD_LENGTH;
        if (cacheable) {
            int[] cached = cache.get(word);
            if (cached != null) {
                out.addAll(cached);
                return;
            }
        }
        int[] ids = bpe(word);
        if (cacheable && cache.size() < CACHE_CAPACITY) {
            cache.putIfAbsent(word, ids);
        }
        out.addAll(ids);
    }

    /** Byte-level BPE of one word. */
    int[] bpe(String word) {
        byte[] utf8 = word.getBytes(StandardCharsets.UTF_8);
        int n = utf8.length;
        if (preTokenizer.ignoresMerges() && n > 1) {
            char[] chars = new char[n];
            for (int i = 0; i < n; i++) {
                chars[i] = BYTE_TO_CHAR[utf8[i] & 0xFF];
            }
            Integer whole = normalIds.get(new String(chars));
            if (whole != null) {
                return new int[] {whole};
            }
        }
        // symbols as a doubly linked list over the byte positions; dead symbols have sym == -1
        int[] sym = new int[n];
        int count = 0;
        for (int i = 0; i < n; i++) {
            int id = byteIds[utf8[i] & 0xFF];
            if (id >= 0) { // a byte the vocabulary lacks is dropped, as Hugging Face does without unk
                sym[count++] = id;
            }
        }
        if (count <= 1) {
            return Arrays.copyOf(sym, count);
        }
        if (count == 2) {
            int r = ranks.get(sym[0], sym[1]);
            return r < 0 ? Arrays.copyOf(sym, 2) : new int[] {mergeResult[r]};
        }
        int[] prev = new int[count];
        int[] next = new int[count];
        LongHeap heap = new LongHeap(count);
        for (int i = 0; i < count; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < count ? i + 1 : -1;
            if (i + 1 < count) {
                int r = ranks.get(sym[i], sym[i + 1]);
                if (r >= 0) {
                    heap.push(((long) r << 32) | i);
                }
            }
        }
        int alive = count;
        // lowest rank first, ties broken by leftmost position (as Hugging Face does)
        while (!heap.isEmpty()) {
            long e = heap.pop();
            int r = (int) (e >>> 32);
            int i = (int) e;
            if (sym[i] < 0) {
                continue;
            }
            int j = next[i];
            if (j < 0 || ranks.get(sym[i], sym[j]) != r) {
                continue; // stale entry
            }
            sym[i] = mergeResult[r];
            sym[j] = -1;
            next[i] = next[j];
            if (next[j] >= 0) {
                prev[next[j]] = i;
            }
            alive--;
            if (prev[i] >= 0) {
                int rl = ranks.get(sym[prev[i]], sym[i]);
                if (rl >= 0) {
                    heap.push(((long) rl << 32) | prev[i]);
                }
            }
            if (next[i] >= 0) {
                int rr = ranks.get(sym[i], sym[next[i]]);
                if (rr >= 0) {
                    heap.push(((long) rr << 32) | i);
                }
            }
        }
        int[] result = new int[alive];
        int k = 0;
        for (int i = 0; i >= 0; i = next[i]) {
            result[k++] = sym[i];
        }
        return result;
    }

    // ---------------------------------------------------------------- byte-level alphabet

    /** Maps bytes to GPT-2's byte-level alphabet (e.g. a space becomes 'Ġ'). */
    static String byteLevelEncode(byte[] bytes) {
        char[] chars = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            chars[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        }
        return new String(chars);
    }

    /**
     * Maps a byte-level string back to bytes. A character outside the alphabet (which a well-formed
     * vocabulary does not have) stands for its own UTF-8 encoding.
     */
    static byte[] byteLevelDecode(String text) {
        byte[] out = new byte[text.length()];
        int k = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            int b = c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
            if (b >= 0) {
                out[k++] = (byte) b;
            } else {
                int cp = text.codePointAt(i);
                byte[] raw = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
                if (k + raw.length > out.length) {
                    out = Arrays.copyOf(out, Math.max(out.length * 2, k + raw.length));
                }
                System.arraycopy(raw, 0, out, k, raw.length);
                k += raw.length;
                i += Character.charCount(cp) - 1;
            }
        }
        return k == out.length ? out : Arrays.copyOf(out, k);
    }

    // ---------------------------------------------------------------- small primitive collections

    /** Open-addressing map (left id, right id) -> merge rank. */
    private static final class PairRanks {
        private final long[] keys;
        private final int[] values;
        private final int mask;

        PairRanks(int expected) {
            int capacity = Integer.highestOneBit(Math.max(4, expected * 2 - 1)) << 1;
            keys = new long[capacity];
            values = new int[capacity];
            Arrays.fill(keys, -1L);
            mask = capacity - 1;
        }

        private static long key(int left, int right) {
            return ((long) left << 32) | (right & 0xFFFFFFFFL);
        }

        private static int hash(long key) {
            long h = key * 0x9E3779B97F4A7C15L;
            return (int) (h ^ (h >>> 29));
        }

        /** Returns false (and keeps the old rank) if the pair is already present. */
        boolean putIfAbsent(int left, int right, int rank) {
            long k = key(left, right);
            for (int slot = hash(k) & mask; ; slot = (slot + 1) & mask) {
                if (keys[slot] == -1L) {
                    keys[slot] = k;
                    values[slot] = rank;
                    return true;
                }
                if (keys[slot] == k) {
                    return false;
                }
            }
        }

        /** The rank of the pair, or -1. */
        int get(int left, int right) {
            long k = key(left, right);
            for (int slot = hash(k) & mask; ; slot = (slot + 1) & mask) {
                long s = keys[slot];
                if (s == k) {
                    return values[slot];
                }
                if (s == -1L) {
                    return -1;
                }
            }
        }
    }

    /** Binary min-heap of longs. */
    private static final class LongHeap {
        private long[] heap;
        private int size;

        LongHeap(int capacity) {
            heap = new long[Math.max(4, capacity)];
        }

        boolean isEmpty() {
            return size == 0;
        }

        void push(long v) {
            if (size == heap.length) {
                heap = Arrays.copyOf(heap, size * 2);
            }
            int i = size++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (heap[parent] <= v) {
                    break;
                }
                heap[i] = heap[parent];
                i = parent;
            }
            heap[i] = v;
        }

        long pop() {
            long top = heap[0];
            long last = heap[--size];
            int i = 0;
            int half = size >>> 1;
            while (i < half) {
                int child = 2 * i + 1;
                if (child + 1 < size && heap[child + 1] < heap[child]) {
                    child++;
                }
                if (last <= heap[child]) {
                    break;
                }
                heap[i] = heap[child];
                i = child;
            }
            if (size > 0) {
                heap[i] = last;
            }
            return top;
        }
    }

    private static final class IntList {
        private int[] a;
        private int size;

        IntList(int capacity) {
            a = new int[capacity];
        }

        void add(int v) {
            if (size == a.length) {
                a = Arrays.copyOf(a, a.length * 2);
            }
            a[size++] = v;
        }

        void addAll(int[] vs) {
            if (size + vs.length > a.length) {
                a = Arrays.copyOf(a, Math.max(a.length * 2, size + vs.length));
            }
            System.arraycopy(vs, 0, a, size, vs.length);
            size += vs.length;
        }

        int[] toArray() {
            return Arrays.copyOf(a, size);
        }
    }
}
