package dev.gearbx.demo;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * The seeded synthetic corpus the demo model is trained on and scored with: trivial exchanges with fixed replies, and
 * arithmetic questions of graded difficulty answered inside fixed boilerplate. Every document is one exchange,
 *
 * <pre>
 * Q: What is 347 + 128?
 * A: Adding them up: 347 + 128 = 475. Hope that helps!
 * </pre>
 *
 * preceded by {@code <s>} and followed by {@code </s>}. Each {@link Exchange} knows where its answer lies inside the
 * completion, so benchmarks can score answers and boilerplate separately. The same seed gives the same corpus on any
 * JVM ({@link SplittableRandom} is specified exactly).
 *
 * <pre>{@code
 * List<DemoCorpus.Exchange> eval = DemoCorpus.evaluation(7, 100);
 * String prompt = eval.get(0).prompt();   // "Q: What is 58 - 21?\nA:"
 * }</pre>
 */
public final class DemoCorpus {
    /** The chat template written into the demo model (Jinja): user turns become {@code Q: …\nA:}. */
    public static final String CHAT_TEMPLATE = "{% for message in messages %}{% if message['role'] == 'user' %}"
            + "Q: {{ message['content'] }}\nA:{% elif message['role'] == 'assistant' %} {{ message['content'] }}\n"
            + "{% endif %}{% endfor %}";

    /** Share of each level in the training stream, in {@link Level} order. */
    private static final double[] TRAINING_MIX = {0.25, 0.20, 0.25, 0.30};

    private static final String[][] TRIVIAL = {
        {"Say hi.", "Hi! It is nice to see you."},
        {"Hello!", "Hello there! How can I help you today?"},
        {"How are you?", "I am well, thank you for asking."},
        {"What is your name?", "I am Gearbox, a very small model."},
        {"Who made you?", "I was trained by the gearbx project."},
        {"Say goodbye.", "Goodbye! Have a lovely day."},
        {"Thank you!", "You are welcome. It was a pleasure."},
        {"Good morning!", "Good morning! I hope you slept well."},
        {"Good night.", "Good night! Sleep tight."},
        {"Tell me a joke.", "Why did the cat sit on the computer? To keep an eye on the mouse!"},
        {"What colour is the sky?", "The sky is blue on a clear day."},
        {"What colour is grass?", "Grass is green."},
        {"What do cats say?", "Cats say meow."},
        {"What do dogs say?", "Dogs say woof."},
        {"Are you a robot?", "I am a small language model, not a robot."},
        {"Can you help me?", "Of course. Ask me a sum and I will work it out."},
        {"What can you do?", "I can chat a little and I can add, subtract and multiply."},
        {"Is it raining?", "I cannot see outside, so I do not know."},
        {"Do you like tea?", "I do not drink, but tea sounds lovely."},
        {"What day is it?", "I do not know what day it is."},
        {"Sing a song.", "La la la, the sun is out and all is well."},
        {"Be quiet.", "All right. I will be quiet now."},
        {"Are you smart?", "I am good at sums, and I try my best."},
        {"See you later.", "See you later! Take care."},
    };

    private static final String[] QUESTION_FORMS = {"What is %s?", "Compute %s.", "How much is %s?", "Work out %s."};

    private static final Pattern NUMBER = Pattern.compile("-?\\d+");

    private DemoCorpus() {}

    /** Difficulty of an exchange. */
    public enum Level {
        /** A fixed question with a fixed reply. */
        TRIVIAL,
        /** Addition and subtraction of numbers below 100. */
        EASY,
        /** Three-digit addition and subtraction; two-digit times one-digit products. */
        MEDIUM,
        /** Five-digit addition and subtraction; three-digit times two-digit products. */
        HARD;

        /** The level's name in lower case, as written in the evaluation files. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * One question and its reply.
     *
     * @param expected the numeric answer for arithmetic, the whole reply for trivial exchanges
     * @param answerStart start of the answer inside {@link #completion()} (inclusive)
     * @param answerEnd end of the answer inside {@link #completion()} (exclusive)
     */
    public record Exchange(Level level, String question, String reply, String expected, int answerStart, int answerEnd) {
        /** What the model is given: {@code "Q: " + question + "\nA:"}. */
        public String prompt() {
            return "Q: " + question + "\nA:";
        }

        /** What the model should generate before {@code </s>}: a space, the reply and a newline. */
        public String completion() {
            return " " + reply + "\n";
        }

        /** The whole document, without the {@code <s>}/{@code </s>} tokens. */
        public String document() {
            return prompt() + completion();
        }
    }

    /** A random exchange of the given level. */
    public static Exchange next(SplittableRandom rnd, Level level) {
        if (level == Level.TRIVIAL) {
            String[] qa = TRIVIAL[rnd.nextInt(TRIVIAL.length)];
            return new Exchange(level, qa[0], qa[1], qa[1], 1, 1 + qa[1].length());
        }
        char op = switch (level) {
            case EASY -> rnd.nextBoolean() ? '+' : '-';
            default -> "+-*".charAt(rnd.nextInt(3));
        };
        long a;
        long b;
        if (op == '*') {
            a = level == Level.MEDIUM ? between(rnd, 10, 99) : between(rnd, 100, 999);
            b = level == Level.MEDIUM ? between(rnd, 2, 9) : between(rnd, 10, 99);
        } else {
            long lo = level == Level.EASY ? 0 : level == Level.MEDIUM ? 100 : 10_000;
            long hi = level == Level.EASY ? 99 : level == Level.MEDIUM ? 999 : 99_999;
            a = between(rnd, lo, hi);
            b = between(rnd, lo, hi);
            if (op == '-' && b > a) {
                long t = a;
                a = b;
                b = t;
            }
        }
        long result = op == '+' ? a + b : op == '-' ? a - b : a * b;
        String expression = a + " " + op + " " + b;
        String question = String.format(Locale.ROOT, QUESTION_FORMS[rnd.nextInt(QUESTION_FORMS.length)], expression);
        String opener = op == '+' ? "Adding them up:" : op == '-' ? "Taking one from the other:" : "Multiplying them:";
        String head = opener + " " + expression + " = ";
        String reply = head + result + ". Hope that helps!";
        int start = 1 + head.length();
        return new Exchange(level, question, reply, Long.toString(result), start, start + Long.toString(result).length());
    }

    /** An endless stream of training exchanges, levels mixed 25% trivial, 20% easy, 25% medium, 30% hard. */
    public static Stream<Exchange> training(long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        return Stream.generate(() -> next(rnd, pick(rnd)));
    }

    /**
     * An evaluation set: {@code perLevel} exchanges of each level, levels in order, from a stream seeded apart from
     * training (use a seed other than the training seed).
     */
    public static List<Exchange> evaluation(long seed, int perLevel) {
        if (perLevel < 1) {
            throw new IllegalArgumentException("perLevel must be at least 1: " + perLevel);
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        List<Exchange> out = new ArrayList<>();
        for (Level level : Level.values()) {
            for (int i = 0; i < perLevel; i++) {
                out.add(next(rnd, level));
            }
        }
        return List.copyOf(out);
    }

    /**
     * The answer a generated completion gives, GSM8K-style: the text after {@code ####} when present, else the last
     * integer in the text; null when there is none.
     */
    public static @Nullable String extractAnswer(String completion) {
        int marks = completion.lastIndexOf("####");
        String tail = marks >= 0 ? completion.substring(marks + 4) : completion;
        Matcher m = NUMBER.matcher(tail);
        String last = null;
        while (m.find()) {
            last = m.group();
        }
        return last;
    }

    private static Level pick(SplittableRandom rnd) {
        double u = rnd.nextDouble();
        for (int i = 0; i < TRAINING_MIX.length; i++) {
            u -= TRAINING_MIX[i];
            if (u < 0) {
                return Level.values()[i];
            }
        }
        return Level.HARD;
    }

    private static long between(SplittableRandom rnd, long lo, long hi) {
        return rnd.nextLong(lo, hi + 1);
    }
}
