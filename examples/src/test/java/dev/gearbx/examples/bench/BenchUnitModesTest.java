package dev.gearbx.examples.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/**
 * Each bench subcommand's {@code --unit} mode, as CI runs it: it exits 0, prints its table, writes
 * JSON that validates against its schema in {@code docs/bench-schema/}, and a PNG chart.
 */
class BenchUnitModesTest {
    private static final Path SCHEMAS = Path.of(System.getProperty("gearbx.benchSchemas", "../docs/bench-schema"));
    /** The unit model is written once here and shared by the runs. */
    private static final Path MODELS = Path.of("target/bench-models");
    private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

    @TempDir
    Path tmp;

    private record Run(int code, String out, String err) {}

    private static Run bench(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new BenchCommand());
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int code = cli.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    private static List<Error> validate(String benchmark, String json) throws IOException {
        Schema schema = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12)
                .getSchema(Files.readString(SCHEMAS.resolve(benchmark + ".schema.json")));
        return schema.validate(json, InputFormat.JSON);
    }

    @ParameterizedTest(name = "bench {0} --unit")
    @ValueSource(strings = {"entropy", "latency", "quality", "production", "decode"})
    void unitModeWritesSchemaValidJsonAndAChart(String benchmark) throws IOException {
        Path json = tmp.resolve(benchmark + ".json");
        Run r = bench(benchmark, "--unit", "--dir", MODELS.toString(), "--json", json.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("unit mode") || benchmark.equals("decode"), r.out());
        String text = Files.readString(json);
        List<Error> errors = validate(benchmark, text);
        assertTrue(errors.isEmpty(), () -> benchmark + " JSON does not follow its schema: " + errors + "\n" + text);
        assertTrue(text.contains("\"mode\" : \"unit\""), text);
        Path png = tmp.resolve(benchmark + ".png");
        assertTrue(Files.size(png) > 1000, "chart " + png + " is too small to be a picture");
        assertArrayEquals(PNG_MAGIC, Arrays.copyOf(Files.readAllBytes(png), 8), "not a PNG: " + png);
    }

    @Test
    void schemasRejectAReportWithoutResults() throws IOException {
        String json = """
                {"benchmark": "entropy", "schemaVersion": 1, "date": "2026-11-27T16:00:00Z", "mode": "unit",
                 "model": "m.gguf", "command": [], "machine": {"cpu": "x", "cores": 2, "computeThreads": 2,
                 "java": "25", "os": "Linux amd64"}}
                """;
        assertFalse(validate("entropy", json).isEmpty());
    }

    @Test
    void badConcurrencyIsNamed() {
        Run r = bench("production", "--unit", "--dir", MODELS.toString(), "--concurrency", "2,0");
        assertTrue(r.code() != 0);
        assertTrue(r.err().contains("--concurrency") && r.err().contains("0"), r.err());
    }

    @Test
    void missingTaskFileIsNamed() {
        Run r = bench("quality", "--unit", "--dir", MODELS.toString(), "--tasks", "/no/such/tasks.jsonl");
        assertTrue(r.code() != 0);
        assertTrue(r.err().contains("/no/such/tasks.jsonl"), r.err());
    }
}
