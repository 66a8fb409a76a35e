package dev.gearbx.examples;

import dev.gearbx.engine.gear.Gear;
import java.util.Map;
import java.util.stream.Collectors;

/** ANSI colours for gears in a terminal: LOW green, MID yellow, HIGH red. */
final class GearColors {
    private static final String RESET = "\u001b[0m";

    private GearColors() {}

    static String code(Gear gear) {
        return switch (gear) {
            case LOW -> "\u001b[32m";
            case MID -> "\u001b[33m";
            case HIGH -> "\u001b[31m";
        };
    }

    static String paint(Gear gear, String text) {
        return text.isEmpty() ? text : code(gear) + text + RESET;
    }

    static String legend() {
        return paint(Gear.LOW, "LOW") + " " + paint(Gear.MID, "MID") + " " + paint(Gear.HIGH, "HIGH");
    }

    /** {@code LOW 80.0%, MID 20.0%}. */
    static String shares(Map<Gear, Double> shares, boolean colored) {
        if (shares.isEmpty()) {
            return "none";
        }
        return shares.entrySet().stream()
                .map(e -> {
                    String s = String.format("%s %.1f%%", e.getKey(), 100 * e.getValue());
                    return colored ? paint(e.getKey(), s) : s;
                })
                .collect(Collectors.joining(", "));
    }
}
