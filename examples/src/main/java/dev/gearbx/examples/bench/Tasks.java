package dev.gearbx.examples.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Question-answer tasks from a JSONL file in the GSM8K layout, one object per line:
 * {@code {"question": "...", "answer": "... #### 42", "level": "1"}} ({@code level} optional). The
 * expected answer is the text after the last {@code ####} (the whole answer when there is none);
 * a model's answer is extracted the same way, or else is the last number it wrote (for a numeric
 * answer) or its first line (for a text answer).
 */
final class Tasks {
    /** The built-in task file (arithmetic of three levels), used when no --tasks is given. */
    static final String DEFAULT_RESOURCE = "/bench/arithmetic-tasks.jsonl";

    private static final Pattern NUMBER = Pattern.compile("-?\\d[\\d,]*(?:\\.\\d+)?");
    private static final String MARK = "####";

    /**
     * One task.
     *
     * @param question the prompt text
     * @param answer the reference answer (reasoning, then {@code #### value})
     * @param expected the value after {@code ####}, normalized
     * @param level difficulty label, or null
     */
    record Task(String question, String answer, String expected, @Nullable String level) {}

    private Tasks() {}

    /** Reads {@code file}, or the built-in tasks when null; the first {@code limit} tasks when limit > 0. */
    static List<Task> read(@Nullable Path file, int limit) throws IOException {
        if (file == null) {
            try (InputStream in = Tasks.class.getResourceAsStream(DEFAULT_RESOURCE)) {
                if (in == null) {
                    throw new IOException("built-in task file " + DEFAULT_RESOURCE + " is missing from the jar");
                }
                return parse(new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)), DEFAULT_RESOURCE, limit);
            }
        }
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("--tasks file " + file + " does not exist");
        }
        try (BufferedReader r = Files.newBufferedReader(file)) {
            return parse(r, file.toString(), limit);
        }
    }

    private static List<Task> parse(BufferedReader reader, String source, int limit) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<Task> tasks = new ArrayList<>();
        String line;
        int lineNo = 0;
        while ((line = reader.readLine()) != null && (limit <= 0 || tasks.size() < limit)) {
            lineNo++;
            if (line.isBlank()) {
                continue;
            }
            JsonNode node;
            try {
                node = json.readTree(line);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalArgumentException("--tasks " + source + " line " + lineNo + " is not JSON: " + e.getOriginalMessage(), e);
            }
            JsonNode q = node.get("question");
            JsonNode a = node.get("answer");
            if (q == null || !q.isTextual() || a == null || a.isNull()) {
                throw new IllegalArgumentException("--tasks " + source + " line " + lineNo
                        + " needs a string field 'question' and a field 'answer'");
            }
            JsonNode level = node.get("level");
            String answer = a.asText();
            tasks.add(new Task(q.asText(), answer, expected(answer), level == null || level.isNull() ? null : level.asText()));
        }
        if (tasks.isEmpty()) {
            throw new IllegalArgumentException("--tasks " + source + " has no tasks");
        }
        return tasks;
    }

    /** The expected value of a reference answer: after the last ####, or the whole answer; normalized. */
    static String expected(String answer) {
        int i = answer.lastIndexOf(MARK);
        String v = i >= 0 ? answer.substring(i + MARK.length()) : answer;
        return normalize(firstLine(v));
    }

    /**
     * The answer a model gave in {@code output}, read the way {@code expected} is written. For a
     * number: the first number after the output's last ####, or else the last number it wrote. For
     * text (a chat reply): the first line after the last ####, or else the output's first line.
     * Null when there is none.
     */
    static @Nullable String extract(String output, String expected) {
        int i = output.lastIndexOf(MARK);
        String after = i >= 0 ? firstLine(output.substring(i + MARK.length())) : null;
        if (!isNumber(expected)) {
            String line = normalize(after != null ? after : firstLine(output));
            return line.isEmpty() ? null : line;
        }
        if (after != null) {
            Matcher m = NUMBER.matcher(after);
            return m.find() ? normalize(m.group()) : after.isBlank() ? null : normalize(after);
        }
        Matcher m = NUMBER.matcher(output);
        String last = null;
        while (m.find()) {
            last = m.group();
        }
        return last == null ? null : normalize(last);
    }

    static boolean isNumber(String s) {
        try {
            new BigDecimal(s);
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** Whether an extracted answer equals the expected one: numerically when both are numbers, else as text. */
    static boolean matches(String expected, @Nullable String got) {
        if (got == null) {
            return false;
        }
        try {
            return new BigDecimal(expected).compareTo(new BigDecimal(got)) == 0;
        } catch (NumberFormatException e) {
            return expected.equalsIgnoreCase(got);
        }
    }

    /** Whether a generation has written a complete {@code #### value} line (so it can stop). */
    static boolean complete(CharSequence output) {
        String s = output.toString();
        int i = s.lastIndexOf(MARK);
        if (i < 0) {
            return false;
        }
        String after = s.substring(i + MARK.length());
        int nl = after.indexOf('\n');
        return nl >= 0 && !after.substring(0, nl).isBlank();
    }

    private static String firstLine(String s) {
        String t = s.strip();
        int nl = t.indexOf('\n');
        return nl >= 0 ? t.substring(0, nl).strip() : t;
    }

    /** Strips spaces, thousands separators, a leading $ and trailing full stop. */
    static String normalize(String s) {
        String t = s.strip().replace(",", "");
        if (t.startsWith("$")) {
            t = t.substring(1).strip();
        }
        while (t.endsWith(".")) {
            t = t.substring(0, t.length() - 1);
        }
        return t;
    }
}
