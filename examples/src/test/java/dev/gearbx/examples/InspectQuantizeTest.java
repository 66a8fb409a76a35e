package dev.gearbx.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gearbx.engine.gguf.GgmlType;
import dev.gearbx.engine.gguf.GgufFile;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code gearbx quantize} and {@code gearbx inspect} on the real stories260K model. */
class InspectQuantizeTest {
    private static final Path MODEL = Path.of(System.getProperty("gearbx.models", "../shared/models")).resolve("stories260K.gguf");

    private record Run(int code, String out, String err) {}

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = GearbxCli.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        return new Run(cli.execute(args), out.toString(), err.toString());
    }

    @Test
    void quantizeWritesAGgufThatInspectShowsWithItsMemoryPerGear(@TempDir Path dir) {
        Path q8 = dir.resolve("stories260K-q8_0.gguf");
        Run q = run("quantize", MODEL.toString(), q8.toString(), "--type", "Q8_0");
        assertEquals(0, q.code(), q.err());
        assertTrue(q.out().contains("re-encoded as Q8_0"), q.out());
        try (GgufFile f = GgufFile.open(q8)) {
            assertTrue(f.tensors().stream().anyMatch(t -> t.type() == GgmlType.Q8_0), "some tensors are Q8_0");
            assertEquals("llama", f.metadata().getString("general.architecture"));
        }

        Run i = run("inspect", q8.toString());
        assertEquals(0, i.code(), i.err());
        assertTrue(i.out().contains("general.architecture") && i.out().contains("llama"), i.out());
        assertTrue(i.out().matches("(?s).*blk\\.0\\.attn_q\\.weight\\s+Q8_0\\s+\\[\\d+, \\d+\\].*"), i.out());
        assertTrue(i.out().contains("weight bytes read per token"), i.out());
        for (String gear : new String[] {"LOW", "MID", "HIGH"}) {
            assertTrue(i.out().contains("off-heap formats, " + gear), i.out());
        }
        // a quantized copy still generates
        Run g = run("generate", "-m", q8.toString(), "-n", "8", "--no-stats");
        assertEquals(0, g.code(), g.err());
        assertTrue(g.out().startsWith("Once upon a time"), g.out());
    }

    @Test
    void badArgumentsAreNamed(@TempDir Path dir) throws Exception {
        Run type = run("quantize", MODEL.toString(), dir.resolve("x.gguf").toString(), "--type", "Q2_K");
        assertEquals(2, type.code());
        assertTrue(type.err().contains("Q2_K") && type.err().contains("Q8_0"), type.err());
        Path exists = Files.writeString(dir.resolve("exists.gguf"), "x");
        Run clobber = run("quantize", MODEL.toString(), exists.toString(), "-t", "Q8_0");
        assertEquals(2, clobber.code());
        assertTrue(clobber.err().contains("--force"), clobber.err());
        Run missing = run("inspect", "/no/such/model.gguf");
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("/no/such/model.gguf"), missing.err());
    }

    @Test
    void helpShowsExamples() {
        for (String cmd : new String[] {"chat", "inspect", "quantize", "serve"}) {
            Run h = run(cmd, "--help");
            assertEquals(0, h.code(), h.err());
            assertTrue(h.out().contains("Examples:") && h.out().contains("gearbx " + cmd), cmd + ": " + h.out());
        }
    }
}
