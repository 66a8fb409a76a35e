package dev.gearbx.engine.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Texts for differential tokenizer tests: hand-picked hard cases plus a seeded Unicode fuzz. */
final class TokenizerCorpus {

    private TokenizerCorpus() {}

    static List<String> handPicked() {
        List<String> t = new ArrayList<>();
        t.add("");
        t.add(" ");
        t.add("  ");
        t.add("Hello world");
        t.add("Hello, world! How are you today?");
        t.add("The quick brown fox jumps over the lazy dog. The dog didn't care; it was asleep.");
        t.add("It was the best of times, it was the worst of times, it was the age of wisdom, it was the age"
                + " of foolishness, it was the epoch of belief, it was the epoch of incredulity...");
        t.add("Mr. O'Neil's well-known e-mail (sent 3/4/2021 at 10:45pm) said: \"Don't panic!\"");
        // code
        t.add("public static void main(String[] args) {\n\tSystem.out.println(\"hi\");\n\treturn;\n}\n");
        t.add("def f(x):\n    if x > 0:\n        return x ** 2\n    else:\n\t\treturn -x  # comment\n\n\n");
        t.add("    indented\n        more\n\t\ttabs\t \t mixed \n");
        t.add("for (int i = 0; i < n; i++) { a[i] += b[i] * c; }\r\n// done\r\n");
        t.add("<div class=\"x\">&nbsp;&amp;</div>\n<script>alert('x');</script>");
        t.add("{\"key\": [1, 2, 3], \"nested\": {\"a\": null, \"b\": true}}");
        t.add("SELECT * FROM users WHERE id = 42 AND name LIKE '%bob%';");
        // numbers
        for (String n : new String[] {"0", "7", "42", "123", "1234", "12345", "123456", "1234567",
                "12345678901234567890", "3.14159", "12,345", "1,234,567.89", "-0.5e-10", "0x1F", "1st 2nd 3rd",
                "2024-01-15T10:30:00Z", "$1,000,000", "100%", "v1.2.3", "٣٤٥", "１２３", "²³", "½ ¾", "Ⅻ"}) {
            t.add(n);
            t.add("x " + n + " y");
        }
        // contractions in all cases
        t.add("DON'T I'll you're WE'RE they've THEY'VE I'm I'M he'd HE'D it's IT'S can't CAN'T");
        t.add("'s 't 're 've 'm 'll 'd 'S 'T 'RE 'VE 'M 'LL 'D 'Ll 'rE");
        t.add("don’t I’ll (curly apostrophes)");
        t.add("'ſ 'K 'ﬀ"); // long s and Kelvin sign fold to s and k
        // spaces and newlines
        t.add("a  b   c    d     e");
        t.add("trailing spaces   ");
        t.add("   leading spaces");
        t.add("\n");
        t.add("\n\n\n\n");
        t.add("a\n\nb\n\n\n\nc");
        t.add("line\r\n\r\nline\r\rline");
        t.add(" \n \n  \n   ");
        t.add("end with newline\n");
        t.add("tabs\t\t\tand\t spaces \t");
        t.add("\u00A0nbsp\u00A0 \u2003em\u2003space\u3000ideographic\u3000");
        t.add("vt\u000Bff\u000Cnel\u0085ls\u2028ps\u2029");
        // scripts
        t.add("日本語のテキストです。漢字とひらがなとカタカナ。");
        t.add("中文文本，包括标点符号！还有数字123。");
        t.add("한국어 텍스트입니다.");
        t.add("مرحبا بالعالم! هذا نص عربي ٢٠٢٤.");
        t.add("שלום עולם");
        t.add("Привет, мир! Как дела?");
        t.add("Γειά σου Κόσμε");
        t.add("नमस्ते दुनिया");
        t.add("สวัสดีชาวโลก");
        // emoji
        t.add("😀😃😄 👍🏽 👩‍💻 👨‍👩‍👧‍👦 🏳️‍🌈 ❤️ 🇺🇸🇯🇵");
        t.add("I love 🍕 and 🍣!");
        t.add("👍👍🏻👍🏼👍🏽👍🏾👍🏿");
        // combining marks (composed and decomposed)
        t.add("café naïve résumé");
        t.add("Tôi làm việc ở Hà Nội"); // Llama 3 has ' việc' as a token the merges do not reach
        t.add("cafe\u0301 nai\u0308ve re\u0301sume\u0301");
        t.add("Z\u0351\u036B\u0343\u036A\u0302\u036B\u033D\u034F\u0334\u0319\u0324\u031E\u0349\u035A\u032F");
        t.add("한\u1100\u1161\u11A8"); // conjoining jamo
        // above U+FFFF
        t.add("𝐇𝐞𝐥𝐥𝐨 𝕎𝕠𝕣𝕝𝕕 𝟙𝟚𝟛");
        t.add("𠀀𠀁𠀂 𪚥 𓀀𓀁");
        t.add("𐍈𐍉 gothic");
        // control characters
        t.add("a\u0000b\u0001c\u0007d\u001Be\u007Ff");
        t.add("\u001C\u001D\u001E\u001Fsep");
        t.add("zero\u200Bwidth\u200Cjoiner\u200D\uFEFFbom");
        t.add("\uFFFD replacement \uFFFC");
        // byte-level edge cases
        t.add("ĠĊ ċ Ā ÿ");
        t.add("!!!???...,,,;;;:::");
        t.add("......................................................................");
        t.add("a".repeat(1000));
        t.add(" ".repeat(500) + "x");
        t.add("ab".repeat(300));
        t.add("😀".repeat(200));
        return t;
    }

    /** A few thousand seeded random strings mixing the character classes the regexes care about. */
    static List<String> fuzz(long seed, int count) {
        Random r = new Random(seed);
        List<String> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int len = 1 + r.nextInt(i % 10 == 0 ? 200 : 30);
            StringBuilder sb = new StringBuilder();
            while (sb.codePointCount(0, sb.length()) < len) {
                sb.append(randomPiece(r));
            }
            out.add(sb.toString());
        }
        return out;
    }

    private static final String[] WHITESPACE = {" ", " ", " ", "  ", "\t", "\n", "\r", "\r\n", "\u000B", "\u000C",
        "\u0085", "\u00A0", "\u1680", "\u2000", "\u2005", "\u200A", "\u2028", "\u2029", "\u202F", "\u205F",
        "\u3000", "\u001C", "\u001F", "\u180E", "\u200B"};
    private static final String[] PIECES = {"'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'Ll",
        "'", "’", "the", " the", "The", "DON", "hello", "world", "-", "_", "(", ")", "[", "]", "{", "}", "<", ">",
        "<|", "|>", "/", "\\", "\"", "#", "@", "$", "%", "^", "&", "*", "+", "=", "~", "`", ".", ",", ";", ":",
        "?", "!", "e\u0301", "\u0301", "\u0308", "\u200D", "\uFE0F", "👍", "🏽", "👩", "🇺", "🇸", "😀", "𝐀", "𠀀",
        "日本", "한", "ا", "ل", "ש", "ж", "ß", "ſ", "K", "ﬁ", "İ", "ı", "Ⅻ", "½", "²", "٣", "１", "𝟙"};

    private static String randomPiece(Random r) {
        int kind = r.nextInt(10);
        return switch (kind) {
            case 0, 1 -> WHITESPACE[r.nextInt(WHITESPACE.length)];
            case 2, 3 -> PIECES[r.nextInt(PIECES.length)];
            case 4 -> String.valueOf((char) (0x20 + r.nextInt(0x5F))); // printable ASCII
            case 5 -> String.valueOf((char) ('0' + r.nextInt(10))).repeat(1 + r.nextInt(5));
            case 6 -> String.valueOf((char) ('a' + r.nextInt(26))).repeat(1 + r.nextInt(3));
            case 7 -> Character.toString(0x80 + r.nextInt(0x800 - 0x80)); // Latin-1 .. 2-byte range
            case 8 -> Character.toString(randomBmp(r));
            default -> Character.toString(randomAny(r));
        };
    }

    private static int randomBmp(Random r) {
        while (true) {
            int cp = r.nextInt(0x10000);
            if (!Character.isSurrogate((char) cp)) {
                return cp;
            }
        }
    }

    private static int randomAny(Random r) {
        while (true) {
            int cp = r.nextInt(0x110000);
            if (cp < Character.MIN_SURROGATE || cp > Character.MAX_SURROGATE) {
                return cp;
            }
        }
    }
}
