package dev.gearbx.reactive.spi;

import dev.gearbx.engine.GearbxException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * Picks the backend: the usable provider of highest rank, unless one is forced by name (the
 * builder's {@code backend(name)}, else system property {@value #PROPERTY}, else environment
 * variable {@value #ENVIRONMENT}). The choice and why the others were not taken are logged once
 * (System.Logger {@code dev.gearbx.reactive.spi.Backends}, level INFO).
 */
public final class Backends {
    public static final String PROPERTY = "gearbx.backend";
    public static final String ENVIRONMENT = "GEARBX_BACKEND";

    private static final System.Logger LOG = System.getLogger(Backends.class.getName());
    private static final Set<String> LOGGED = ConcurrentHashMap.newKeySet();

    private Backends() {}

    /**
     * The outcome of a selection.
     *
     * @param chosen the provider chosen
     * @param why why it was chosen
     * @param others every other provider found, with its availability (or "lower rank")
     */
    public record Selection(BackendProvider chosen, String why, Map<String, String> others) {
        /** One line, as logged. */
        public String describe() {
            StringBuilder sb = new StringBuilder("gearbx backend: ").append(chosen.name()).append(" (").append(why).append(')');
            others.forEach((name, reason) -> sb.append("; ").append(name).append(": ").append(reason));
            return sb.toString();
        }
    }

    /** The backend name forced by the system property or environment variable, or null. */
    public static @Nullable String forcedByEnvironment() {
        String p = System.getProperty(PROPERTY);
        if (p != null && !p.isBlank()) {
            return p.strip();
        }
        String e = System.getenv(ENVIRONMENT);
        return e == null || e.isBlank() ? null : e.strip();
    }

    /** Providers found by {@link ServiceLoader} with this class's loader. */
    public static List<BackendProvider> discover() {
        List<BackendProvider> found = new ArrayList<>();
        for (BackendProvider p : ServiceLoader.load(BackendProvider.class, Backends.class.getClassLoader())) {
            found.add(p);
        }
        if (found.stream().noneMatch(p -> p.name().equals(CpuBackendProvider.NAME))) {
            found.add(new CpuBackendProvider()); // always there, even when the service file is lost in shading
        }
        return found;
    }

    /** Selects among the discovered providers, honouring {@code forced}, then the property/environment. */
    public static Selection select(@Nullable String forced) {
        return select(forced != null ? forced : forcedByEnvironment(), discover());
    }

    /**
     * Selects among {@code providers}.
     *
     * @param forced a provider name to use, or null to take the usable one of highest rank
     * @throws GearbxException if the forced backend is unknown or unusable, or none is usable
     */
    public static Selection select(@Nullable String forced, List<BackendProvider> providers) {
        List<BackendProvider> sorted = new ArrayList<>(providers);
        sorted.sort(Comparator.comparingInt(BackendProvider::rank).reversed().thenComparing(BackendProvider::name));
        Map<String, Availability> availability = new LinkedHashMap<>();
        for (BackendProvider p : sorted) {
            availability.put(p.name(), probe(p));
        }
        BackendProvider chosen = null;
        String why;
        if (forced != null) {
            String name = forced.toLowerCase(Locale.ROOT);
            chosen = sorted.stream().filter(p -> p.name().equals(name)).findFirst().orElseThrow(() -> new GearbxException(
                    "backend '" + forced + "' was forced but no provider has that name; found " + availability.keySet()));
            Availability a = availability.get(chosen.name());
            if (!a.usable()) {
                throw new GearbxException("backend '" + forced + "' was forced but is unusable here: " + a.reason());
            }
            why = "forced; " + a.reason();
        } else {
            for (BackendProvider p : sorted) {
                if (availability.get(p.name()).usable()) {
                    chosen = p;
                    break;
                }
            }
            if (chosen == null) {
                throw new GearbxException("no usable gearbx backend: " + availability
                        + "; put gearbx-engine (the CPU backend) on the class path");
            }
            why = "highest usable rank " + chosen.rank() + "; " + availability.get(chosen.name()).reason();
        }
        Map<String, String> others = new LinkedHashMap<>();
        for (BackendProvider p : sorted) {
            if (p != chosen) {
                Availability a = availability.get(p.name());
                others.put(p.name(), a.usable() ? "usable but not chosen (rank " + p.rank() + ")" : "unusable: " + a.reason());
            }
        }
        Selection s = new Selection(chosen, why, others);
        String line = s.describe();
        if (LOGGED.add(line)) {
            LOG.log(System.Logger.Level.INFO, line);
        }
        return s;
    }

    private static Availability probe(BackendProvider p) {
        try {
            return p.availability();
        } catch (RuntimeException | LinkageError e) {
            return Availability.unusable("probe failed: " + e);
        }
    }
}
