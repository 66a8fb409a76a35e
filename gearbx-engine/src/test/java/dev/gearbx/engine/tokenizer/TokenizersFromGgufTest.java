package dev.gearbx.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gearbx.engine.gguf.GgufFile;
import dev.gearbx.engine.gguf.GgufMetadataException;
import dev.gearbx.engine.gguf.GgufValue;
import dev.gearbx.engine.gguf.GgufWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The gpt2 tokenizer as a GGUF file describes it, written with the real Llama 3 vocabulary. */
class TokenizersFromGgufTest {
    @TempDir
    Path dir;

    private Tokenizer load(HfTokenizerFiles.Model model, String pre, boolean addBos, int bos, int eos) {
        HfTokenizerFiles.GgufLike data = HfTokenizerFiles.data(model);
        Path file = dir.resolve(model + ".gguf");
        new GgufWriter()
                .put("tokenizer.ggml.model", GgufValue.ofString("gpt2"))
                .put("tokenizer.ggml.pre", GgufValue.ofString(pre))
                .put("tokenizer.ggml.tokens", GgufValue.ofStrings(data.tokens().toArray(new String[0])))
                .put("tokenizer.ggml.token_type", GgufValue.ofInt32s(data.types()))
                .put("tokenizer.ggml.merges", GgufValue.ofStrings(data.merges().toArray(new String[0])))
                .put("tokenizer.ggml.bos_token_id", GgufValue.ofUint32(bos))
                .put("tokenizer.ggml.eos_token_id", GgufValue.ofUint32(eos))
                .put("tokenizer.ggml.add_bos_token", GgufValue.ofBool(addBos))
                .write(file);
        try (GgufFile gguf = GgufFile.open(file)) {
            return Tokenizers.fromGguf(gguf.metadata());
        }
    }

    @Test
    void llama3FromGgufMetadata() {
        Tokenizer t = load(HfTokenizerFiles.Model.LLAMA3, "llama-bpe", true, 128000, 128001);
        assertInstanceOf(ByteLevelBpeTokenizer.class, t);
        assertArrayEquals(new int[] {128000, 9906, 1917}, t.encode("Hello world"));
        int eot = t.encode("<|eot_id|>", false, true)[0];
        assertTrue(t.isEndOfGeneration(eot), "<|eot_id|> ends generation");
        assertTrue(t.isEndOfGeneration(128001));
        assertEquals("Hello world", t.decode(t.encode("Hello world", false, false)));
    }

    @Test
    void qwenFromGgufMetadataHasNoBos() {
        Tokenizer t = load(HfTokenizerFiles.Model.QWEN3, "qwen2", false, 151643, 151645);
        String text = "1234 apples";
        assertArrayEquals(HfTokenizerFiles.referenceIds(HfTokenizerFiles.Model.QWEN3, text), t.encode(text));
    }

    @Test
    void unknownPreTokenizerIsNamed() {
        GgufMetadataException e = assertThrows(GgufMetadataException.class,
                () -> load(HfTokenizerFiles.Model.QWEN3, "no-such-pre", false, 151643, 151645));
        assertEquals("tokenizer.ggml.pre", e.key());
        assertTrue(e.getMessage().contains("no-such-pre"), e.getMessage());
    }
}
