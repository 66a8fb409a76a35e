package dev.gearbx.reactive.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.gearbx.engine.gguf.GgufMetadata;
import dev.gearbx.engine.hf.HfTokenizerReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The chat template as a Hugging Face folder delivers it: {@code tokenizer_config.json}'s {@code
 * chat_template}, {@code bos_token} and {@code eos_token} read by {@link HfTokenizerReader} into the
 * model's metadata, then rendered by {@link ChatTemplate#fromGguf}: single-turn, multi-turn, system
 * prompt, with and without the generation prompt.
 */
class HfFolderChatTemplateTest {

    private static ChatTemplate fromFolder(String model) {
        Path dir = Path.of(System.getProperty("gearbx.tokenizers", "../../shared/tokenizers")).resolve(model);
        Assumptions.assumeTrue(Files.isRegularFile(dir.resolve("tokenizer_config.json")),
                "tokenizer test data not found at " + dir + " (system property gearbx.tokenizers)");
        return ChatTemplate.fromGguf(new GgufMetadata(HfTokenizerReader.toGguf(dir)));
    }

    @Test
    void llama3() {
        ChatTemplate t = fromFolder("llama3");
        assertEquals("<|begin_of_text|>", t.bosToken());
        String user = "<|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>";
        String prompt = "<|start_header_id|>assistant<|end_header_id|>\n\n";
        // single turn; this template always appends the assistant header
        assertEquals("<|begin_of_text|>" + user + prompt, t.render(List.of(ChatMessage.user("Hello")), true));
        assertEquals("<|begin_of_text|>" + user + prompt, t.render(List.of(ChatMessage.user("Hello")), false));
        // system prompt and several turns
        assertEquals("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>" + user
                + "<|start_header_id|>assistant<|end_header_id|>\n\nHi!<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nBye<|eot_id|>" + prompt,
                t.render(List.of(ChatMessage.system("Be brief."), ChatMessage.user("Hello"), ChatMessage.assistant("Hi!"),
                        ChatMessage.user("Bye")), true));
    }

    @Test
    void qwen3() {
        ChatTemplate t = fromFolder("qwen3");
        assertEquals("", t.bosToken());
        String user = "<|im_start|>user\nHello<|im_end|>\n";
        String prompt = "<|im_start|>assistant\n";
        assertEquals(user + prompt, t.render(List.of(ChatMessage.user("Hello")), true));
        assertEquals(user, t.render(List.of(ChatMessage.user("Hello")), false));
        assertEquals("<|im_start|>system\nBe brief.<|im_end|>\n" + user + "<|im_start|>assistant\nHi!<|im_end|>\n"
                + "<|im_start|>user\nBye<|im_end|>\n" + prompt,
                t.render(List.of(ChatMessage.system("Be brief."), ChatMessage.user("Hello"), ChatMessage.assistant("Hi!"),
                        ChatMessage.user("Bye")), true));
    }
}
