package dev.gearbx.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The command line on the real stories260K model. */
class GearbxCliTest {
    private static final String MODEL =
            Path.of(System.getProperty("gearbx.models", "../shared/models")).resolve("stories260K.gguf").toString();

    private record Run(int code, String out, String err) {}

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = GearbxCli.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int code = cli.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void generateStreamsTheReferenceText() {
        Run r = run("generate", "--model", MODEL, "--prompt", "Once upon a time", "--max-tokens", "32", "--gear", "HIGH");
        assertEquals(0, r.code(), r.err());
        assertEquals("Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw",
                r.out().strip());
        assertTrue(r.err().contains("32 generated"), r.err());
    }

    @Test
    void withoutAModelTheEmbeddedDemoModelAnswers() {
        Run r = run("generate", "--no-color");
        assertEquals(0, r.code(), r.err());
        assertEquals("Q: What is 347 + 128?\nA: Adding them up: 347 + 128 = 475. Hope that helps!", r.out().strip());
        assertTrue(r.err().contains("thresholds 0.10/0.50 bits"), "the model's own thresholds: " + r.err());
        // a gear option alone still runs the demo model pinned at that gear
        Run low = run("generate", "--no-color", "--gear", "LOW", "-p", "Q: Say hi.\nA:");
        assertEquals(0, low.code(), low.err());
        assertEquals("Q: Say hi.\nA: Hi! It is nice to see you.", low.out().strip());
        assertTrue(low.err().contains("LOW 100.0%"), low.err());
    }

    @Test
    void seededSamplingIsReproducible() {
        Run a = run("generate", "-m", MODEL, "-t", "0.9", "--seed", "7", "-n", "40", "--no-stats");
        Run b = run("generate", "-m", MODEL, "-t", "0.9", "--seed", "7", "-n", "40", "--no-stats");
        assertEquals(0, a.code(), a.err());
        assertEquals(a.out(), b.out());
    }

    @Test
    void invalidSamplingParameterIsNamed() {
        Run r = run("generate", "-m", MODEL, "-t", "0.8", "--top-p", "1.5");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("topP") && r.err().contains("1.5"), r.err());
    }

    @Test
    void serveAnswersOpenAiRequestsUntilStopped() throws Exception {
        StringWriter out = new StringWriter();
        CommandLine cli = GearbxCli.commandLine();
        cli.setOut(new PrintWriter(out, true));
        java.util.concurrent.CompletableFuture<Integer> code = java.util.concurrent.CompletableFuture.supplyAsync(
                () -> cli.execute("serve", "--model", MODEL, "--port", "0", "--gear", "HIGH"));
        long deadline = System.nanoTime() + 20_000_000_000L;
        java.util.regex.Matcher url;
        while (!(url = java.util.regex.Pattern.compile("at (http://127\\.0\\.0\\.1:\\d+/v1)").matcher(out.toString())).find()) {
            if (System.nanoTime() > deadline || code.isDone()) {
                throw new AssertionError("no URL printed: " + out + (code.isDone() ? " exit " + code.get() : ""));
            }
            Thread.sleep(20);
        }
        try (var client = java.net.http.HttpClient.newHttpClient()) {
            var reply = client.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url.group(1) + "/completions"))
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString(
                            "{\"model\":\"stories260K\",\"prompt\":\"Once upon a time\",\"max_tokens\":32,\"temperature\":0}"))
                    .header("Content-Type", "application/json").build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            assertEquals(200, reply.statusCode(), reply.body());
            assertTrue(reply.body().contains("\"text\":\", there was a little girl named Lily."), reply.body());
        } finally {
            ((ServeCommand) cli.getSubcommands().get("serve").getCommand()).stop();
        }
        assertEquals(0, code.get(20, java.util.concurrent.TimeUnit.SECONDS));
    }

    @Test
    void missingModelFileIsNamed() {
        Run r = run("generate", "--model", "/no/such/model.gguf");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("/no/such/model.gguf"), r.err());
    }

    /** GGUF to a Hugging Face folder and back; generation from the folder gives the reference text. */
    @Test
    void convertBothWaysAndGenerateFromTheFolder(@TempDir Path dir) throws java.io.IOException {
        Path folder = dir.resolve("stories260K-hf");
        Run toHf = run("convert", MODEL, folder.toString());
        assertEquals(0, toHf.code(), toHf.err());
        assertTrue(java.nio.file.Files.isRegularFile(folder.resolve("model.safetensors")));
        Run gen = run("generate", "--model", folder.toString(), "-n", "32", "--gear", "HIGH", "--no-stats");
        assertEquals(0, gen.code(), gen.err());
        assertEquals("Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw",
                gen.out().strip());
        Path back = dir.resolve("back.gguf");
        Run toGguf = run("convert", folder.toString(), back.toString());
        assertEquals(0, toGguf.code(), toGguf.err());
        assertTrue(java.nio.file.Files.size(back) > 1_000_000, "the GGUF holds the 1 MB of weights");
        Run again = run("convert", folder.toString(), back.toString());
        assertEquals(2, again.code());
        assertTrue(again.err().contains("--force"), again.err());
    }
}
