package dev.gearbx.engine.hf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gearbx.engine.gguf.GgufMetadata;
import dev.gearbx.engine.model.LlamaConfig;
import dev.gearbx.engine.model.RopeScaling;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** config.json of the Llama family and Qwen2 to the engine's {@link LlamaConfig}, and its errors. */
class HfConfigTest {
    @TempDir
    Path dir;

    private LlamaConfig read(String json) throws IOException {
        Path f = dir.resolve("config.json");
        Files.writeString(f, json);
        return LlamaConfig.fromGguf(new GgufMetadata(HfConfig.toGguf(f, "test")), 1000);
    }

    @Test
    void llama32WithLlama3RopeScalingAndGqa() throws IOException {
        LlamaConfig c = read("""
                {"model_type": "llama", "hidden_size": 2048, "intermediate_size": 8192, "num_hidden_layers": 16,
                 "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": 64, "max_position_embeddings": 131072,
                 "rms_norm_eps": 1e-05, "rope_theta": 500000.0, "tie_word_embeddings": true,
                 "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                                  "original_max_position_embeddings": 8192, "rope_type": "llama3"}}
                """);
        assertEquals(2048, c.dim());
        assertEquals(8, c.kvHeads());
        assertEquals(4, c.groupSize());
        assertEquals(64, c.headDim());
        assertEquals(500000f, c.ropeTheta());
        assertEquals(RopeScaling.Kind.LLAMA3, c.ropeScaling().kind());
        assertEquals(32f, c.ropeScaling().factor());
        assertEquals(8192, c.ropeScaling().originalContext());
        assertEquals(131072, c.contextLength());
    }

    @Test
    void qwen2AndLinearScaling() throws IOException {
        LlamaConfig c = read("""
                {"model_type": "qwen2", "hidden_size": 896, "intermediate_size": 4864, "num_hidden_layers": 24,
                 "num_attention_heads": 14, "num_key_value_heads": 2, "max_position_embeddings": 32768,
                 "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "rope_scaling": {"type": "linear", "factor": 2.0}}
                """);
        assertEquals("qwen2", c.architecture());
        assertTrue(c.attentionBias());
        assertEquals(64, c.headDim());
        assertEquals(RopeScaling.Kind.LINEAR, c.ropeScaling().kind());
        assertEquals(1e-6f, c.rmsEps());
    }

    @Test
    void errorsNameTheKey() throws IOException {
        Path f = dir.resolve("config.json");
        String[][] cases = {
            {"{\"model_type\": \"gpt_neox\"}", "model_type"},
            {"{\"model_type\": \"llama\", \"hidden_size\": -1}", "hidden_size"},
            {"{\"model_type\": \"llama\", \"hidden_size\": 64, \"num_attention_heads\": 8, \"num_key_value_heads\": 3,"
                    + " \"num_hidden_layers\": 1, \"intermediate_size\": 8}", "num_key_value_heads"},
            {"{\"model_type\": \"llama\", \"hidden_size\": 64, \"num_attention_heads\": 8, \"num_hidden_layers\": 1,"
                    + " \"intermediate_size\": 8, \"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4}}", "rope_scaling.rope_type"},
            {"{\"model_type\": \"llama\", \"hidden_size\": 64, \"num_attention_heads\": 8, \"num_hidden_layers\": 1,"
                    + " \"intermediate_size\": 8, \"rms_norm_eps\": \"small\"}", "rms_norm_eps"},
            {"not json", "(document)"},
        };
        for (String[] c : cases) {
            Files.writeString(f, c[0]);
            HfFormatException e = assertThrows(HfFormatException.class, () -> HfConfig.toGguf(f, "x"), c[0]);
            assertEquals(c[1], e.field(), e.getMessage());
            assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
        }
    }

    @Test
    void folderErrorsNameTheFile() throws IOException {
        Path folder = dir.resolve("m");
        Files.createDirectories(folder);
        HfFormatException e = assertThrows(HfFormatException.class, () -> HfModelFolder.open(folder));
        assertTrue(e.getMessage().contains("config.json"), e.getMessage());
        Path src = HfFixtures.stories260KSharded();
        for (String name : new String[] {"config.json", "tokenizer.json", "tokenizer_config.json"}) {
            Files.copy(src.resolve(name), folder.resolve(name));
        }
        Files.writeString(folder.resolve(HfModelFolder.INDEX), "{\"weight_map\": {\"model.norm.weight\": \"../escape.safetensors\"}}");
        e = assertThrows(HfFormatException.class, () -> HfModelFolder.open(folder));
        assertEquals("weight_map.model.norm.weight", e.field(), e.getMessage());
    }
}
