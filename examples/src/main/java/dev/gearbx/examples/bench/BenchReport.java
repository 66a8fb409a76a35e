package dev.gearbx.examples.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What every bench subcommand writes as JSON: which benchmark, when, on what, and its results (the
 * envelope of every schema in {@code docs/bench-schema/}).
 *
 * @param benchmark the subcommand: decode, entropy, latency, quality, production
 * @param schemaVersion version of the JSON layout (1)
 * @param date when the run ended, ISO-8601 UTC
 * @param mode "unit" (synthetic smoke run) or "full"
 * @param model file name of the model (the unit model in unit mode)
 * @param command the arguments the subcommand was given
 * @param machine where it ran
 * @param results the subcommand's own results
 */
record BenchReport<T>(String benchmark, int schemaVersion, String date, String mode, String model, List<String> command,
        Machine machine, T results) {

    static final int SCHEMA_VERSION = 1;

    static <T> BenchReport<T> of(String benchmark, BenchOptions o, String model, List<String> command, T results) {
        return new BenchReport<>(benchmark, SCHEMA_VERSION, Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(),
                o.mode(), model, List.copyOf(command), Machine.current(), results);
    }

    /** Writes the report to {@code file} (pretty-printed), creating its folder. */
    void write(@Nullable Path file) throws IOException {
        if (file == null) {
            return;
        }
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), this);
    }

    /**
     * The machine a run measured.
     *
     * @param cpu model name from /proc/cpuinfo ("unknown" elsewhere)
     * @param cores processors the JVM sees
     * @param computeThreads threads of the engine's compute pool ({@code gearbx.threads}, default the cores)
     * @param java runtime version
     * @param os name and architecture
     */
    record Machine(String cpu, int cores, int computeThreads, String java, String os) {
        static Machine current() {
            int cores = Runtime.getRuntime().availableProcessors();
            return new Machine(cpuName(), cores, Integer.getInteger("gearbx.threads", cores), Runtime.version().toString(),
                    System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        }

        private static String cpuName() {
            try {
                return Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                        .filter(l -> l.startsWith("model name")).findFirst()
                        .map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("unknown");
            } catch (IOException | RuntimeException e) {
                return "unknown";
            }
        }
    }
}
