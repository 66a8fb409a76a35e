package dev.gearbx.examples;

import dev.gearbx.examples.bench.BenchCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code gearbx} command: generate text, serve over HTTP, run benchmarks, convert models, build the demo model. */
@Command(
        name = "gearbx",
        mixinStandardHelpOptions = true,
        version = "gearbx 0.1.0-SNAPSHOT",
        description = "Local LLM inference for the JVM.",
        footer = {"%nExamples:",
                "  gearbx chat                                  # talk to the embedded demo model",
                "  gearbx generate -p 'Once upon a time' -n 64",
                "  gearbx serve --port 8080                     # OpenAI API; live dashboard at /dashboard",
                "  gearbx inspect model.gguf",
                "  gearbx quantize model-f16.gguf model-q8_0.gguf --type Q8_0",
                "  gearbx bench decode",
                "%nColours follow the gear (LOW green, MID yellow, HIGH red) on a terminal; NO_COLOR=1 turns them off."},
        subcommands = {GenerateCommand.class, ChatCommand.class, ServeCommand.class, InspectCommand.class, QuantizeCommand.class, BenchCommand.class, ConvertCommand.class, DemoCommand.class,
                CommandLine.HelpCommand.class})
public final class GearbxCli implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        System.setProperty("java.awt.headless", "true"); // charts are drawn into images, never shown
        System.exit(commandLine().execute(args));
    }

    /** The configured command line (exit codes: 0 ok, 1 a gearbx error, 2 bad usage). */
    static CommandLine commandLine() {
        return new CommandLine(new GearbxCli())
                .setExecutionExceptionHandler((e, cmd, parsed) -> {
                    // typed gearbx errors already say what is wrong: print the message, not a trace
                    cmd.getErr().println("gearbx: " + e.getMessage());
                    if (Boolean.getBoolean("gearbx.debug")) {
                        e.printStackTrace(cmd.getErr());
                    }
                    return 1;
                });
    }
}
