package dev.gearbx.examples;

import dev.gearbx.engine.hf.HfConverter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** Converts a Hugging Face model folder to GGUF, or a GGUF file to a Hugging Face folder. */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = {"Convert a Hugging Face model folder (config.json, *.safetensors, tokenizer.json) to a GGUF file,",
            "or a GGUF file to a Hugging Face folder (llama and qwen2 architectures).",
            "  gearbx convert ./TinyLlama-1.1B tinyllama.gguf",
            "  gearbx convert stories260K.gguf ./stories260K-hf"})
final class ConvertCommand implements Callable<Integer> {

    @Spec
    @SuppressWarnings("NullAway.Init")
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "INPUT", description = "A Hugging Face model folder, or a GGUF file.")
    @SuppressWarnings("NullAway.Init")
    Path input;

    @Parameters(index = "1", paramLabel = "OUTPUT", description = "The GGUF file to write, or the folder to write into.")
    @SuppressWarnings("NullAway.Init")
    Path output;

    @Option(names = "--max-shard-mb", defaultValue = "4096",
            description = "GGUF to folder: largest safetensors file in MiB before the weights are sharded (default: ${DEFAULT-VALUE}).")
    long maxShardMb = 4096;

    @Option(names = {"-f", "--force"}, description = "Overwrite an existing output file.")
    boolean force;

    @Override
    public Integer call() {
        if (maxShardMb <= 0) {
            throw new ParameterException(spec.commandLine(), "--max-shard-mb must be positive, got " + maxShardMb);
        }
        if (Files.isDirectory(input)) {
            if (Files.exists(output) && !force) {
                throw new ParameterException(spec.commandLine(), "output " + output + " exists (use --force to overwrite)");
            }
            long start = System.nanoTime();
            HfConverter.toGguf(input, output);
            spec.commandLine().getErr().printf("wrote %s (%.1f MB) in %.1f s%n", output, sizeOf(output) / 1e6,
                    (System.nanoTime() - start) / 1e9);
        } else if (Files.isRegularFile(input)) {
            if (Files.isRegularFile(output.resolve("config.json")) && !force) {
                throw new ParameterException(spec.commandLine(), "output folder " + output + " already holds a model (use --force)");
            }
            long start = System.nanoTime();
            HfConverter.toHuggingFace(input, output, maxShardMb << 20);
            spec.commandLine().getErr().printf("wrote %s in %.1f s%n", output, (System.nanoTime() - start) / 1e9);
        } else {
            throw new ParameterException(spec.commandLine(), "input " + input + " is neither a folder nor a file");
        }
        return 0;
    }

    private static long sizeOf(Path p) {
        try {
            return Files.size(p);
        } catch (java.io.IOException e) {
            return -1;
        }
    }
}
