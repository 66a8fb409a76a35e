package dev.gearbx.examples;

import dev.gearbx.reactive.Gearbx;
import dev.gearbx.reactive.GearbxModel;
import dev.gearbx.reactive.models.ModelNotFoundException;
import dev.gearbx.reactive.models.ModelReference;
import dev.gearbx.reactive.server.GearbxServer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** Serves a model over OpenAI-compatible HTTP until interrupted. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve a GGUF model over OpenAI-compatible HTTP (/v1/models, /v1/completions, /v1/chat/completions,",
                "/v1/gearbx/telemetry, /metrics) and a live dashboard at /dashboard until interrupted (Ctrl-C)."},
        footer = {"%nExamples:",
                "  gearbx serve --port 8080                     # then open http://127.0.0.1:8080/dashboard",
                "  gearbx serve -m model.gguf --id llama --thresholds 0.8,2.4",
                "  gearbx serve --host 0.0.0.0 --port 8080      # listen beyond loopback"})
final class ServeCommand implements Callable<Integer> {

    @Spec
    @SuppressWarnings("NullAway.Init")
    CommandSpec spec;

    @Option(names = {"-m", "--model"}, description = "GGUF model file, or ollama:NAME[:TAG] (default: the TinyStories model in ../shared/models).")
    @Nullable String model;

    @Option(names = "--id", description = "Model id clients ask for (default: the file name without .gguf).")
    @Nullable String id;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to listen on (default: ${DEFAULT-VALUE}, loopback only).")
    String host = "127.0.0.1";

    @Option(names = "--port", defaultValue = "8080", description = "Port, 0 for any free one (default: ${DEFAULT-VALUE}).")
    int port = 8080;

    @Option(names = "--max-body-bytes", defaultValue = "1048576", description = "Largest request body (default: ${DEFAULT-VALUE}).")
    long maxBodyBytes = 1 << 20;

    @Option(names = "--max-tokens", defaultValue = "256", description = "Token budget of a request without max_tokens (default: ${DEFAULT-VALUE}).")
    int maxTokens = 256;

    @picocli.CommandLine.ArgGroup(exclusive = false, heading = "Gears and routing:%n")
    @Nullable GearOptions gears;

    private final CountDownLatch stopped = new CountDownLatch(1);

    @Override
    public Integer call() throws InterruptedException {
        Path path;
        try {
            path = ModelReference.resolve(model != null ? model : ModelPaths.defaultModel().toString());
        } catch (ModelNotFoundException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage() + " (--model)");
        }
        GearOptions g = model == null ? GearOptions.forDemoModel(gears, spec.commandLine().getParseResult())
                : gears != null ? gears : new GearOptions();
        String served = id != null ? id : model == null ? "gearbx-demo" : GearbxServer.modelId(path);
        PrintWriter out = spec.commandLine().getOut();
        Thread hook = new Thread(this::stop, "gearbx-serve-stop");
        try (GearbxModel m = Gearbx.builder().model(path).gears(g.gearConfig()).routing(g.routing()).maxTokens(maxTokens).build();
             GearbxServer server = GearbxServer.builder().model(served, m).host(host).port(port).maxBodyBytes(maxBodyBytes).start()) {
            out.printf("gearbx serving '%s' at %s (Ctrl-C stops)%n", served, server.baseUrl());
            out.printf("  curl %s/chat/completions -H 'Content-Type: application/json' \\%n"
                    + "    -d '{\"model\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"stream\":true}'%n",
                    server.baseUrl(), served);
            out.flush();
            Runtime.getRuntime().addShutdownHook(hook);
            server.onDispose().subscribe(null, e -> stop(), this::stop);
            stopped.await();
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException | IllegalArgumentException shuttingDown) {
                // already running or never added
            }
        }
        return 0;
    }

    /** Stops a running {@link #call()} (as Ctrl-C does). */
    void stop() {
        stopped.countDown();
    }
}
