package dev.gearbx.engine.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Splits text around literal occurrences of special tokens (control and user-defined pieces),
 * longest match first, so that {@code "<|eot_id|>"} written in a chat template becomes one token.
 */
final class SpecialTokenMatcher {
    /** A piece of text ({@code tokenId == -1}) or a matched special token. */
    record Fragment(String text, int tokenId) {}

    private final String[] specials;
    private final int[] specialIds;
    private final java.util.BitSet firstChars = new java.util.BitSet(1 << 16);

    private SpecialTokenMatcher(String[] specials, int[] specialIds) {
        this.specials = specials;
        this.specialIds = specialIds;
        for (String s : specials) {
            firstChars.set(s.charAt(0));
        }
    }

    static SpecialTokenMatcher of(String[] tokens, int[] types) {
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < tokens.length; i++) {
            if ((types[i] == TokenType.CONTROL || types[i] == TokenType.USER_DEFINED) && !tokens[i].isEmpty()) {
                ids.add(i);
            }
        }
        // longest first, so "<|eot_id|>" wins over a shorter special that is its prefix
        ids.sort(Comparator.comparingInt((Integer i) -> -tokens[i].length()).thenComparingInt(i -> i));
        String[] s = new String[ids.size()];
        int[] id = new int[ids.size()];
        for (int i = 0; i < s.length; i++) {
            id[i] = ids.get(i);
            s[i] = tokens[id[i]];
        }
        return new SpecialTokenMatcher(s, id);
    }

    List<Fragment> split(String text, boolean parseSpecial) {
        if (!parseSpecial || specials.length == 0) {
            return List.of(new Fragment(text, -1));
        }
        List<Fragment> out = new ArrayList<>();
        int start = 0;
        int i = 0;
        while (i < text.length()) {
            int matched = -1;
            for (int s = 0; s < specials.length && firstChars.get(text.charAt(i)); s++) {
                if (text.startsWith(specials[s], i)) {
                    matched = s;
                    break;
                }
            }
            if (matched < 0) {
                i++;
                continue;
            }
            if (i > start) {
                out.add(new Fragment(text.substring(start, i), -1));
            }
            out.add(new Fragment(specials[matched], specialIds[matched]));
            i += specials[matched].length();
            start = i;
        }
        if (start < text.length()) {
            out.add(new Fragment(text.substring(start), -1));
        }
        return out;
    }
}
