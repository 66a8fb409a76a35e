package dev.gearbx.examples.bench;

import dev.gearbx.engine.gear.Gear;
import java.awt.Color;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.internal.chartpart.Chart;

/** Writes XChart charts as PNG, headless, with one colour per gear. */
final class Charts {
    static final int WIDTH = 900;
    static final int HEIGHT = 500;

    static {
        // no display here, and none needed to draw into an image
        System.setProperty("java.awt.headless", "true");
    }

    private Charts() {}

    /** The gear's colour, as the terminal output colours tokens: LOW green, MID amber, HIGH red. */
    static Color color(Gear gear) {
        return switch (gear) {
            case LOW -> new Color(0x2E, 0x9E, 0x44);
            case MID -> new Color(0xE0, 0xA0, 0x10);
            case HIGH -> new Color(0xD0, 0x30, 0x30);
        };
    }

    /** A colour for the i-th series that is not a gear. */
    static Color palette(int i) {
        Color[] c = {new Color(0x1F, 0x77, 0xB4), new Color(0x9C, 0x27, 0xB0), new Color(0x55, 0x55, 0x55),
            new Color(0x00, 0x96, 0x88), new Color(0x8C, 0x56, 0x4B), new Color(0xE3, 0x77, 0xC2)};
        return c[Math.floorMod(i, c.length)];
    }

    /** Colour of a variant label: its gear's colour for a pinned gear, blue for routed. */
    static Color variantColor(String label) {
        for (Gear g : Gear.values()) {
            if (label.equals(g.name()) || label.startsWith(g.name() + ":")) {
                Color c = color(g);
                return label.contains(":") && !label.endsWith("NESTED_LOW") && !label.endsWith("NESTED_MID") ? c.darker() : c;
            }
        }
        return palette(0);
    }

    /** Saves {@code chart} as PNG to {@code file} (nothing when file is null); returns the file. */
    static @Nullable Path save(Chart<?, ?> chart, @Nullable Path file) throws IOException {
        if (file == null) {
            return null;
        }
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        try (OutputStream out = Files.newOutputStream(file)) {
            BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG);
        }
        return file;
    }
}
