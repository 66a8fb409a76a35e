package dev.gearbx.reactive.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The live telemetry dashboard: a static page (HTML, vanilla JavaScript, CSS; nothing fetched from
 * elsewhere) in this package's {@code dashboard/} resources. It follows
 * {@code GET /v1/gearbx/telemetry} and {@code GET /v1/gearbx/thresholds}, so any server offering
 * those two endpoints can serve it: {@link GearbxServer} does at {@code /dashboard}, and a Spring app
 * can serve {@link #RESOURCE_FOLDER} as static resources.
 *
 * <pre>{@code
 * byte[] page = Dashboard.asset("index.html").bytes();   // what GET /dashboard returns
 * }</pre>
 */
public final class Dashboard {
    /** Class-path folder of the dashboard files (with a trailing slash, no leading one). */
    public static final String RESOURCE_FOLDER = "dev/gearbx/reactive/server/dashboard/";

    /** The dashboard's files and their content types; nothing else is served. */
    private static final Map<String, String> FILES = Map.of(
            "index.html", "text/html; charset=utf-8",
            "dashboard.js", "text/javascript; charset=utf-8",
            "dashboard.css", "text/css; charset=utf-8");

    /**
     * A dashboard file.
     *
     * @param name its name in {@link #RESOURCE_FOLDER}
     * @param contentType its HTTP content type
     * @param bytes its content
     */
    public record Asset(String name, String contentType, byte[] bytes) {}

    private Dashboard() {}

    /** The dashboard file {@code name} ({@code index.html}, {@code dashboard.js}, {@code dashboard.css}), or null for any other name. */
    public static @Nullable Asset asset(String name) {
        String type = FILES.get(name);
        if (type == null) {
            return null;
        }
        try (InputStream in = Dashboard.class.getClassLoader().getResourceAsStream(RESOURCE_FOLDER + name)) {
            if (in == null) {
                throw new IllegalStateException("dashboard resource " + RESOURCE_FOLDER + name + " is missing from the class path");
            }
            return new Asset(name, type, in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read dashboard resource " + RESOURCE_FOLDER + name, e);
        }
    }
}
