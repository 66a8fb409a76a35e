package dev.gearbx.engine.routing;

import dev.gearbx.engine.gear.Gear;

/**
 * Decides the gear of the next step from what the entropy monitor has seen. Implementations may
 * keep state (e.g. how long the current gear has run); one instance per sequence.
 */
@FunctionalInterface
public interface GearPolicy {

    /**
     * @param current the gear the last step ran at
     * @param monitor the sequence's entropy monitor, already updated with the last step
     * @return the gear of the next step
     */
    Gear next(Gear current, EntropyMonitor monitor);

    /** Forgets any per-sequence state. */
    default void reset() {}

    /** A policy that never shifts (static mode, for baselines). */
    static GearPolicy pinned() {
        return (current, monitor) -> current;
    }
}
