package dev.gearbx.examples;

import dev.gearbx.engine.gguf.GgmlType;
import dev.gearbx.engine.gguf.GgufFile;
import dev.gearbx.engine.model.ModelQuantizer;
import dev.gearbx.engine.tensor.Quantization;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** Writes a copy of a GGUF model with its weight matrices re-encoded to another type. */
@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = {"Write a quantized copy of a GGUF model: weight matrices re-encoded to --type,",
                "everything else (norms, metadata, odd-sized matrices) copied as it is."},
        footer = {"%nExamples:",
                "  gearbx quantize model-f16.gguf model-q8_0.gguf --type Q8_0",
                "  gearbx quantize model-f16.gguf model-q4_k.gguf -t Q4_K && gearbx inspect model-q4_k.gguf --no-memory"})
final class QuantizeCommand implements Callable<Integer> {

    @Spec
    @SuppressWarnings("NullAway.Init")
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "IN", description = "The GGUF model to read.")
    @SuppressWarnings("NullAway.Init")
    Path in;

    @Parameters(index = "1", paramLabel = "OUT", description = "The GGUF file to write.")
    @SuppressWarnings("NullAway.Init")
    Path out;

    @Option(names = {"-t", "--type"}, required = true,
            description = "Target type: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K.")
    @SuppressWarnings("NullAway.Init")
    GgmlType type;

    @Option(names = {"-f", "--force"}, description = "Overwrite OUT if it exists.")
    boolean force;

    @Override
    public Integer call() {
        if (!Files.isRegularFile(in)) {
            throw new ParameterException(spec.commandLine(), "no such file: " + in + " (IN)");
        }
        if (!Quantization.canQuantize(type)) {
            throw new ParameterException(spec.commandLine(), "--type " + type + " cannot be written; one of "
                    + Arrays.stream(GgmlType.values()).filter(Quantization::canQuantize).map(Enum::name)
                            .collect(Collectors.joining(", ")));
        }
        if (Files.exists(out) && !force) {
            throw new ParameterException(spec.commandLine(), "OUT exists: " + out + " (use --force to overwrite)");
        }
        if (in.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())) {
            throw new ParameterException(spec.commandLine(), "OUT must differ from IN: " + out);
        }
        long start = System.nanoTime();
        try (Terminal.Bar bar = Terminal.progress("Quantizing to " + type, -1)) {
            ModelQuantizer.quantize(in, out, type, (done, total) -> {
                bar.total(total);
                bar.stepTo(done);
            });
        }
        PrintWriter w = spec.commandLine().getOut();
        try (GgufFile before = GgufFile.open(in); GgufFile after = GgufFile.open(out)) {
            long changed = after.tensors().stream().filter(t -> t.type() == type
                    && before.tensor(t.name()).type() != type).count();
            w.printf("wrote %s: %d of %d tensors re-encoded as %s, %s -> %s (%.1f s)%n", out, changed, after.tensors().size(),
                    type, InspectCommand.bytes(before.fileSize()), InspectCommand.bytes(after.fileSize()),
                    (System.nanoTime() - start) / 1e9);
        }
        w.flush();
        return 0;
    }
}
