package dev.gearbx.reactive.spi;

/**
 * Registers a backend with {@link java.util.ServiceLoader} (list the class in
 * {@code META-INF/services/dev.gearbx.reactive.spi.BackendProvider}). Providers are cheap to
 * create: nothing heavy (native libraries, devices) may happen before {@link #create()}.
 */
public interface BackendProvider {

    /** Short lowercase name, used to force the backend ({@code -Dgearbx.backend=NAME}), e.g. {@code cpu}. */
    String name();

    /** Preference among usable backends: the highest rank wins (the CPU backend has rank 0). */
    int rank();

    /** Whether the backend can run here; never throws (a failure to probe is an unusable answer). */
    Availability availability();

    /** Creates the backend; called only when {@link #availability()} said usable. */
    Backend create();
}
