package dev.gearbx.examples.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** Prompt sets: one prompt per line of a file (blank lines and lines starting with # skipped), or built-in ones. */
final class Prompts {
    /** Confident continuations: story openings, greetings, boilerplate. */
    static final List<String> TRIVIAL = List.of(
            "Once upon a time",
            "One day, Lily went to the park",
            "Hello! How are you today?",
            "The little dog was very happy",
            "Thank you very much for",
            "Tom and his mom went to the");

    /** Uncertain continuations: arithmetic, symbols, code. */
    static final List<String> HARD = List.of(
            "Compute 347 * 29 =",
            "Solve for x: 3x + 7 = 22, so x =",
            "What is 17^3 - 4913 + 81 / 9?",
            "def quicksort(arr): # sort a list in O(n log n)",
            "Integrate x^2 * e^(3x) dx =",
            "0x3F ^ 0b1011 << 2 equals");

    private Prompts() {}

    /** The prompts of {@code file}, or {@code defaults} when it is null. */
    static List<String> read(@Nullable Path file, List<String> defaults, String option) throws IOException {
        if (file == null) {
            return defaults;
        }
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(option + " file " + file + " does not exist");
        }
        List<String> prompts = Files.readAllLines(file).stream()
                .map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#"))
                .map(l -> l.replace("\\n", "\n")) // a literal \n in a line is a newline (Q/A prompts)
                .toList();
        if (prompts.isEmpty()) {
            throw new IllegalArgumentException(option + " file " + file + " has no prompts (one per line)");
        }
        return prompts;
    }
}
