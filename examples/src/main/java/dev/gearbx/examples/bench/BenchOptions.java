package dev.gearbx.examples.bench;

import dev.gearbx.examples.ModelPaths;
import dev.gearbx.reactive.models.ModelReference;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;

/** Options every bench subcommand shares: unit or full mode, the model, the output files. */
final class BenchOptions {
    @Option(names = "--unit", description = "Synthetic smoke run in seconds (a tiny generated model; figures mean nothing).")
    boolean unit;

    @Option(names = {"-m", "--model"},
            description = "GGUF model file or ollama:NAME[:TAG] for the full mode (default: the TinyStories model in ../shared/models).")
    @Nullable String model;

    @Option(names = "--json", description = "Write the results as JSON to this file (schema: docs/bench-schema/).")
    @Nullable Path json;

    @Option(names = "--chart", description = "Write the chart as PNG to this file (default: the --json file with .png).")
    @Nullable Path chart;

    @Option(names = "--no-progress", description = "No progress bar (it is shown only when stderr is a terminal anyway).")
    boolean noProgress;

    @Option(names = "--dir", defaultValue = "target/bench-models",
            description = "Where synthetic models are written (default: ${DEFAULT-VALUE}).")
    Path dir = Path.of("target/bench-models");

    /** The model file of the run: the unit model in unit mode, else --model or the default model. */
    Path modelFile() {
        if (unit) {
            return UnitModel.file(dir);
        }
        return ModelReference.resolve(model != null ? model : ModelPaths.defaultModel().toString());
    }

    /** "unit" or "full". */
    String mode() {
        return unit ? "unit" : "full";
    }

    /** Where the chart goes: --chart, else beside the JSON file, else nowhere. */
    @Nullable Path chartFile() {
        if (chart != null) {
            return chart;
        }
        if (json == null) {
            return null;
        }
        String name = json.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return json.resolveSibling((dot > 0 ? name.substring(0, dot) : name) + ".png");
    }

    /** {@code value}, or an IllegalArgumentException naming {@code option} when it is below 1. */
    static int positive(String option, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(option + " must be at least 1, got " + value);
        }
        return value;
    }

    /** A progress bar of {@code total} steps (a no-op one when off). */
    Progress progress(String task, long total) {
        return Progress.start(task, total, !noProgress);
    }
}
