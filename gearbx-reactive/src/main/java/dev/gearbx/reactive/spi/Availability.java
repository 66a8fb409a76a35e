package dev.gearbx.reactive.spi;

import java.util.Objects;

/**
 * Whether a backend can run here, and why (or why not).
 *
 * @param usable whether the backend can run on this machine
 * @param reason a short human-readable reason, e.g. "no CUDA driver (libcuda.so.1 not found)"
 */
public record Availability(boolean usable, String reason) {
    public Availability {
        Objects.requireNonNull(reason, "reason");
    }

    public static Availability usable(String reason) {
        return new Availability(true, reason);
    }

    public static Availability unusable(String reason) {
        return new Availability(false, reason);
    }
}
