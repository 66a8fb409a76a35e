package dev.gearbx.engine.routing;

import dev.gearbx.engine.gear.Gear;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Picks the first gear of a generation from the prompt alone, before any entropy has been seen:
 * maths and code ask for precision, short chatty prompts do not. Cheap (one pass over the text)
 * and deterministic.
 *
 * <p>Features, each in [0, 1]: {@code math} (share of digits and operator characters, saturating
 * at 15%), {@code code} (code keywords and punctuation per word, saturating at 0.3), {@code
 * length} (characters, saturating at 400), {@code wordLength} (average word length between 4
 * and 8 letters). The score is 0.45 math + 0.30 code + 0.15 length + 0.10 wordLength; below
 * {@code midAt} the gear is LOW, from {@code highAt} on it is HIGH, MID between.
 */
public final class StatisticalPromptClassifier {
    /** The classifier's verdict on one prompt. */
    public record Assessment(Gear gear, double score, Map<String, Double> features) {
        public Assessment {
            features = Map.copyOf(features);
        }
    }

    private static final Set<String> CODE_WORDS = Set.of(
            "def", "class", "function", "return", "import", "public", "static", "void", "const", "let", "var",
            "fn", "struct", "impl", "package", "select", "from", "where", "lambda", "async", "await", "while",
            "for", "if", "else", "elif", "int", "string", "null", "true", "false", "new", "try", "catch");
    private static final String MATH_CHARS = "+-*/=^%<>()[]{}|√∑∏∫≤≥≠±×÷π";

    private final double midAt;
    private final double highAt;

    /** Thresholds 0.25 (MID) and 0.5 (HIGH). */
    public StatisticalPromptClassifier() {
        this(0.25, 0.5);
    }

    public StatisticalPromptClassifier(double midAt, double highAt) {
        if (!(midAt >= 0 && midAt < highAt && highAt <= 1)) {
            throw new IllegalArgumentException("need 0 <= midAt < highAt <= 1, got " + midAt + ", " + highAt);
        }
        this.midAt = midAt;
        this.highAt = highAt;
    }

    public Assessment assess(String prompt) {
        int chars = 0;
        int mathChars = 0;
        int letters = 0;
        int words = 0;
        int codeHits = 0;
        StringBuilder word = new StringBuilder();
        for (int i = 0; i <= prompt.length(); i++) {
            char c = i < prompt.length() ? prompt.charAt(i) : ' ';
            if (i < prompt.length() && !Character.isWhitespace(c)) {
                chars++;
                if (Character.isDigit(c) || MATH_CHARS.indexOf(c) >= 0) {
                    mathChars++;
                }
                if (c == ';' || c == '{' || c == '}') {
                    codeHits++;
                }
            }
            if (Character.isLetter(c) || c == '_') {
                word.append(c);
                letters++;
            } else if (!word.isEmpty()) {
                words++;
                if (CODE_WORDS.contains(word.toString().toLowerCase(Locale.ROOT))) {
                    codeHits++;
                }
                word.setLength(0);
            }
        }
        double math = saturate(chars == 0 ? 0 : mathChars / (double) chars, 0.15);
        double code = saturate(words == 0 ? (codeHits > 0 ? 1 : 0) : codeHits / (double) words, 0.3);
        double length = saturate(prompt.length(), 400);
        double avgWord = words == 0 ? 0 : letters / (double) words;
        double wordLength = Math.clamp((avgWord - 4) / 4, 0, 1);
        double score = 0.45 * math + 0.30 * code + 0.15 * length + 0.10 * wordLength;
        Gear gear = score >= highAt ? Gear.HIGH : score >= midAt ? Gear.MID : Gear.LOW;
        Map<String, Double> features = new LinkedHashMap<>();
        features.put("math", math);
        features.put("code", code);
        features.put("length", length);
        features.put("wordLength", wordLength);
        return new Assessment(gear, score, features);
    }

    private static double saturate(double v, double at) {
        return Math.min(1, v / at);
    }
}
