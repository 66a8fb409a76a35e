package dev.gearbx.examples;

import dev.gearbx.engine.sampling.SamplingParams;
import dev.gearbx.reactive.Gearbx;
import dev.gearbx.reactive.GearbxModel;
import dev.gearbx.reactive.GenerationSummary;
import dev.gearbx.reactive.StreamOptions;
import dev.gearbx.reactive.chat.ChatMessage;
import dev.gearbx.reactive.models.ModelNotFoundException;
import dev.gearbx.reactive.models.ModelReference;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import reactor.core.Disposable;

/**
 * An interactive chat with a model through its chat template, keeping the conversation. Ctrl-C
 * stops the answer being written (the program goes on); {@code /exit} or end of input quits.
 */
@Command(name = "chat", mixinStandardHelpOptions = true,
        description = {"Chat with a model in the terminal, through its chat template; the conversation is kept.",
                "Ctrl-C stops the current answer (not the program); /reset forgets the conversation; /exit or Ctrl-D quits."},
        footer = {"%nExamples:",
                "  gearbx chat                                   # the embedded demo model",
                "  gearbx chat -m llama-3.2-1b.gguf --system 'Answer briefly.'",
                "  NO_COLOR=1 gearbx chat --gear HIGH            # plain text, every step at full precision"})
final class ChatCommand implements java.util.concurrent.Callable<Integer> {
    static final String PROMPT = "you> ";
    static final String STOPPED = " [stopped]";

    @Spec
    @SuppressWarnings("NullAway.Init")
    CommandSpec spec;

    @Option(names = {"-m", "--model"}, description = "GGUF model file, or ollama:NAME[:TAG] (default: the model of gearbx generate).")
    @Nullable String model;

    @Option(names = "--system", description = "A system message that starts the conversation.")
    @Nullable String system;

    @Option(names = {"-n", "--max-tokens"}, defaultValue = "256", description = "Most tokens per answer (default: ${DEFAULT-VALUE}).")
    int maxTokens = 256;

    @Option(names = {"-t", "--temperature"}, defaultValue = "0", description = "Sampling temperature; 0 is greedy (default: ${DEFAULT-VALUE}).")
    float temperature;

    @Option(names = {"-s", "--seed"}, description = "Random seed for sampling (default: random).")
    @Nullable Long seed;

    @Option(names = "--color", negatable = true,
            description = "Colour each token by its gear (default: on a terminal unless NO_COLOR is set).")
    @Nullable Boolean color;

    @Option(names = "--no-stats", description = "Do not show each answer's gear shares, shifts and tokens/s (on stderr).")
    boolean noStats;

    @picocli.CommandLine.ArgGroup(exclusive = false, heading = "Gears and routing:%n")
    @Nullable GearOptions gears;

    /** The answer being written, which Ctrl-C cancels. */
    private final AtomicReference<@Nullable Disposable> answering = new AtomicReference<>();
    /** Set by Ctrl-C when it stopped an answer. */
    private volatile boolean stopped;

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (maxTokens < 1) {
            throw new ParameterException(spec.commandLine(), "--max-tokens must be at least 1, got " + maxTokens);
        }
        Path path;
        try {
            path = ModelReference.resolve(model != null ? model : ModelPaths.defaultModel().toString());
        } catch (ModelNotFoundException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage() + " (--model)");
        }
        GearOptions g = gears != null ? gears : new GearOptions();
        PrintWriter out = spec.commandLine().getOut();
        boolean colored = Terminal.colours(color);
        StreamOptions options = StreamOptions.builder().maxTokens(maxTokens).sampling(sampling()).build();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        GearbxModel m;
        try (Terminal.Bar bar = Terminal.progress("Loading " + path.getFileName(), -1)) {
            m = Gearbx.builder().model(path).gears(g.gearConfig()).routing(g.routing()).build();
        }
        try (m; Interrupts interrupts = Interrupts.install(this::interrupt)) {
            out.printf("gearbx chat with %s on %s%s. Ctrl-C stops an answer, /exit quits.%n", path.getFileName(),
                    m.backendName(), colored ? " (" + GearColors.legend() + ")" : "");
            List<ChatMessage> history = new ArrayList<>();
            if (system != null) {
                history.add(ChatMessage.system(system));
            }
            while (true) {
                out.print(PROMPT);
                out.flush();
                String line = in.readLine();
                if (line == null || line.strip().equals("/exit")) {
                    out.println();
                    return 0;
                }
                if (line.isBlank()) {
                    continue;
                }
                if (line.strip().equals("/reset")) {
                    history.subList(system != null ? 1 : 0, history.size()).clear();
                    out.println("(conversation forgotten)");
                    continue;
                }
                history.add(ChatMessage.user(line));
                history.add(ChatMessage.assistant(answer(m, history, options, out, colored)));
            }
        }
    }

    /** Streams the reply to the conversation; returns its text (cut where Ctrl-C stopped it). */
    private String answer(GearbxModel m, List<ChatMessage> history, StreamOptions options, PrintWriter out, boolean colored)
            throws InterruptedException {
        StringBuilder text = new StringBuilder();
        CountDownLatch done = new CountDownLatch(1);
        AtomicReference<@Nullable Throwable> error = new AtomicReference<>();
        AtomicReference<@Nullable GenerationSummary> summary = new AtomicReference<>();
        stopped = false;
        Disposable d = m.chat(List.copyOf(history), options, summary::set)
                .doFinally(s -> done.countDown())
                .subscribe(c -> {
                    synchronized (out) {
                        if (stopped) {
                            return; // a token of the step that was running when Ctrl-C came
                        }
                        text.append(c.text());
                        out.print(colored ? GearColors.paint(c.gear(), c.text()) : c.text());
                        out.flush();
                    }
                }, error::set);
        answering.set(d);
        if (d.isDisposed()) {
            answering.set(null); // ended before it could be stopped
        }
        done.await();
        answering.set(null);
        Throwable e = error.get();
        if (e != null) {
            out.println();
            out.println("gearbx: " + e.getMessage());
        } else if (stopped) {
            out.println(STOPPED);
        } else {
            if (!text.toString().endsWith("\n")) {
                out.println();
            }
            GenerationSummary s = summary.get();
            if (!noStats && s != null) {
                PrintWriter err = spec.commandLine().getErr();
                err.printf("[%s; %d shift%s; %.1f tokens/s]%n", GearColors.shares(s.gearShares(), colored), s.shifts(),
                        s.shifts() == 1 ? "" : "s", s.tokensPerSecond());
                err.flush();
            }
        }
        out.flush();
        return text.toString().strip();
    }

    /** Ctrl-C: stops the answer being written, if any; otherwise a hint. */
    private void interrupt() {
        Disposable d = answering.getAndSet(null);
        if (d != null) {
            stopped = true;
            d.dispose();
        } else {
            PrintWriter out = spec.commandLine().getOut();
            out.printf("%n(Ctrl-C stops an answer; /exit or Ctrl-D quits)%n%s", PROMPT);
            out.flush();
        }
    }

    private SamplingParams sampling() {
        if (temperature == 0) {
            return SamplingParams.greedy();
        }
        SamplingParams.Builder b = SamplingParams.builder().temperature(temperature);
        if (seed != null) {
            b.seed(seed);
        }
        return b.build();
    }

    /** Ctrl-C (SIGINT) routed to a handler while installed; the previous handling comes back on close. */
    @SuppressWarnings("sunapi")
    static final class Interrupts implements AutoCloseable {
        private final sun.misc.@Nullable SignalHandler previous;

        private Interrupts(sun.misc.@Nullable SignalHandler previous) {
            this.previous = previous;
        }

        static Interrupts install(Runnable onInterrupt) {
            try {
                return new Interrupts(sun.misc.Signal.handle(new sun.misc.Signal("INT"), s -> onInterrupt.run()));
            } catch (IllegalArgumentException unsupported) {
                // no SIGINT here (or the JVM was started with -Xrs): Ctrl-C keeps its default meaning
                return new Interrupts(null);
            }
        }

        @Override
        public void close() {
            if (previous != null) {
                sun.misc.Signal.handle(new sun.misc.Signal("INT"), previous);
            }
        }
    }
}
