package dev.gearbx.examples.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code gearbx bench}: the benchmark suite. Each subcommand prints a table, and with {@code --json}
 * writes JSON (schemas in {@code docs/bench-schema/}) and a PNG chart beside it:
 *
 * <pre>
 * gearbx bench entropy --unit --json target/bench/entropy.json    # seconds, synthetic
 * gearbx bench quality -m ../shared/models/stories260K.gguf --json docs/bench/quality-stories260k.json
 * </pre>
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks: decode speed, entropy separation, latency, quality, production throughput.",
        subcommands = {DecodeBench.class, EntropyBench.class, LatencyBench.class, QualityBench.class, ProductionBench.class,
                DemoBench.class})
public final class BenchCommand implements Runnable {

    @CommandLine.Spec
    @SuppressWarnings("NullAway.Init")
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
