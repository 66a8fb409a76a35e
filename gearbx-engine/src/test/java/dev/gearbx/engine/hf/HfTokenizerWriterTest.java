package dev.gearbx.engine.hf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.gearbx.engine.gguf.GgufMetadata;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A byte-level tokenizer read into GGUF metadata and written back as tokenizer.json by the exporter
 * splits like the original file under Hugging Face's own tokenizers (through DJL).
 */
class HfTokenizerWriterTest {
    static final List<String> TEXTS = List.of("Hello world", "  leading and trailing  ", "12345 + 3.14 = x",
            "def f(x):\n\treturn x ** 2\n", "日本語のテキスト、中文。😀👍🏽", "don't I'LL we've", "a\r\n\r\nb   c",
            "<|im_start|>user\nhi<|im_end|>", "<|begin_of_text|>x<|eot_id|>");

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"qwen3"}) // Llama 3 takes the same path (split regex + byte level); one big vocabulary keeps CI short
    void writtenTokenizerJsonSplitsLikeTheOriginal(String model) throws Exception {
        Path original = Path.of(System.getProperty("gearbx.tokenizers", "../shared/tokenizers")).resolve(model);
        Assumptions.assumeTrue(Files.isRegularFile(original.resolve("tokenizer.json")), "no tokenizer data at " + original);
        GgufMetadata md = new GgufMetadata(HfTokenizerReader.toGguf(original));
        HfTokenizerWriter.write(md, dir);
        Map<String, String> options = Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false");
        try (HuggingFaceTokenizer a = HuggingFaceTokenizer.newInstance(original.resolve("tokenizer.json"), options);
                HuggingFaceTokenizer b = HuggingFaceTokenizer.newInstance(dir.resolve("tokenizer.json"), options)) {
            for (String text : TEXTS) {
                long[] expected = a.encode(text, false, false).getIds();
                assertArrayEquals(expected, b.encode(text, false, false).getIds(), text);
                assertEquals(a.decode(expected), b.decode(expected), text);
            }
        }
        // and gearbx reads its own output back to the same metadata
        Map<String, ?> back = HfTokenizerReader.toGguf(dir);
        assertEquals(md.getString("tokenizer.ggml.pre"), ((dev.gearbx.engine.gguf.GgufValue) back.get("tokenizer.ggml.pre")).value());
        assertArrayEquals(md.getStringArray("tokenizer.ggml.tokens"),
                (String[]) ((dev.gearbx.engine.gguf.GgufValue) back.get("tokenizer.ggml.tokens")).value());
    }
}
