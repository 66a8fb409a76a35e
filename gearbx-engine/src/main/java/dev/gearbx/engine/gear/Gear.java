package dev.gearbx.engine.gear;

/**
 * The precision a decode step runs at. Ordered from cheapest to most precise, so {@code
 * compareTo} says which is higher.
 */
public enum Gear {
    /** 4-bit weights by default (about 0.5 byte per weight read per token). */
    LOW,
    /** 8-bit weights by default (about 1 byte per weight). */
    MID,
    /** The model's original 16/32-bit weights. */
    HIGH;

    /** The next more precise gear (HIGH stays HIGH). */
    public Gear up() {
        return this == LOW ? MID : HIGH;
    }

    /** The next cheaper gear (LOW stays LOW). */
    public Gear down() {
        return this == HIGH ? MID : LOW;
    }

    /** The more precise of the two. */
    public Gear atLeast(Gear other) {
        return compareTo(other) >= 0 ? this : other;
    }
}
