package dev.gearbx.examples;

import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.gear.GearConfig;
import dev.gearbx.engine.gear.MemoryReport;
import dev.gearbx.engine.gguf.GgufFile;
import dev.gearbx.engine.gguf.GgufTensorInfo;
import dev.gearbx.engine.gguf.GgufValue;
import dev.gearbx.engine.gguf.GgufValueType;
import dev.gearbx.engine.model.LlamaModel;
import dev.gearbx.engine.tensor.Kernels;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** Prints a GGUF file's metadata, its tensors and the memory its weights take at each gear. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Show a GGUF model: metadata, tensors (type, shape, bytes) and memory per gear.",
        footer = {"%nExamples:",
                "  gearbx inspect model.gguf",
                "  gearbx inspect model.gguf --no-tensors --no-memory     # metadata only",
                "  gearbx inspect model.gguf --manage ALL --low-format INT4"})
final class InspectCommand implements Callable<Integer> {
    private static final int MAX_ARRAY_SHOWN = 8;
    private static final int MAX_STRING_SHOWN = 120;

    @Spec
    @SuppressWarnings("NullAway.Init")
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FILE", description = "The GGUF file.")
    @SuppressWarnings("NullAway.Init")
    Path file;

    @Option(names = "--tensors", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "List the tensors (default: ${DEFAULT-VALUE}).")
    boolean tensors = true;

    @Option(names = "--memory", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Load the model and report its memory per gear (default: ${DEFAULT-VALUE}).")
    boolean memory = true;

    @picocli.CommandLine.ArgGroup(exclusive = false, heading = "Gears (for the memory report):%n")
    @org.jspecify.annotations.Nullable GearOptions gears;

    @Override
    public Integer call() {
        if (!Files.isRegularFile(file)) {
            throw new ParameterException(spec.commandLine(), "no such file: " + file + " (FILE)");
        }
        PrintWriter out = spec.commandLine().getOut();
        try (GgufFile gguf = GgufFile.open(file)) {
            out.printf("%s: GGUF v%d, %s, %d tensors, %d metadata keys%n", file.getFileName(), gguf.version(),
                    bytes(gguf.fileSize()), gguf.tensors().size(), gguf.metadata().keys().size());
            out.println();
            out.println("Metadata:");
            Map<String, GgufValue> sorted = new TreeMap<>(gguf.metadata().asMap());
            sorted.forEach((k, v) -> out.printf("  %-40s %s%n", k, show(v)));
            if (tensors) {
                out.println();
                out.printf("Tensors:%n  %-36s %-6s %-20s %12s%n", "name", "type", "shape", "bytes");
                long total = 0;
                for (GgufTensorInfo t : gguf.tensors()) {
                    out.printf("  %-36s %-6s %-20s %12s%n", t.name(), t.type(), Arrays.toString(t.shape()), bytes(t.byteSize()));
                    total += t.byteSize();
                }
                out.printf("  %-36s %-6s %-20s %12s%n", "total", "", "", bytes(total));
            }
        }
        if (memory) {
            GearConfig config = (gears != null ? gears : new GearOptions()).gearConfig();
            MemoryReport r;
            try (Terminal.Bar bar = Terminal.progress("Loading " + file.getFileName(), -1);
                 LlamaModel model = LlamaModel.load(file, Kernels.preferred(), config)) {
                for (Gear g : Gear.values()) {
                    model.precision().prepare(g); // builds the quantized formats, so the report counts them
                }
                r = model.memory();
            }
            out.println();
            out.printf("Memory (%s layers managed; LOW %s, MID %s):%n", config.scope(), config.format(Gear.LOW),
                    config.format(Gear.MID));
            out.printf("  %-28s %12s%n", "mapped file", bytes(r.mappedBytes()));
            out.printf("  %-28s %12s%n", "heap (norms, biases)", bytes(r.heapBytes()));
            for (Gear g : Gear.values()) {
                out.printf("  %-28s %12s%n", "off-heap formats, " + g, bytes(r.offHeapByGear().getOrDefault(g, 0L)));
            }
            if (config.format(Gear.LOW) == dev.gearbx.engine.gear.GearFormat.NESTED_LOW) {
                out.println("  (nested formats: LOW reads half of the storage counted under MID)");
            }
            out.println("  weight bytes read per token:");
            for (Gear g : Gear.values()) {
                out.printf("    %-26s %12s%n", g, bytes(r.bytesReadPerToken().getOrDefault(g, 0L)));
            }
        }
        out.flush();
        return 0;
    }

    /** A value as text: arrays shortened, long strings cut. */
    static String show(GgufValue v) {
        if (v.type() == GgufValueType.ARRAY) {
            Object value = v.value();
            int n = java.lang.reflect.Array.getLength(value);
            String head = java.util.stream.IntStream.range(0, Math.min(n, MAX_ARRAY_SHOWN))
                    .mapToObj(i -> String.valueOf(java.lang.reflect.Array.get(value, i)))
                    .map(InspectCommand::cut)
                    .collect(Collectors.joining(", "));
            return v.elementType() + "[" + n + "] [" + head + (n > MAX_ARRAY_SHOWN ? ", ..." : "") + "]";
        }
        return cut(String.valueOf(v.value()));
    }

    private static String cut(String s) {
        String oneLine = s.replace("\n", "\\n");
        return oneLine.length() <= MAX_STRING_SHOWN ? oneLine : oneLine.substring(0, MAX_STRING_SHOWN) + "...";
    }

    static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        double v = n;
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
