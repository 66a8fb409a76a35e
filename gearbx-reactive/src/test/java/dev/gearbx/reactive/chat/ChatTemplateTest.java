package dev.gearbx.reactive.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gearbx.engine.GearbxException;
import dev.gearbx.engine.gguf.GgufFile;
import dev.gearbx.engine.gguf.GgufMetadata;
import dev.gearbx.engine.gguf.GgufValue;
import dev.gearbx.engine.gguf.GgufWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChatTemplateTest {
    static final List<ChatMessage> CONVERSATION = List.of(
            ChatMessage.system("You are a helpful assistant."),
            ChatMessage.user("What is 2+2?"),
            ChatMessage.assistant("2+2 is 4."),
            ChatMessage.user("And 3+3?"));

    /** The real Hugging Face tokenizer_config.json of a model in ../shared/tokenizers. */
    static JsonNode tokenizerConfig(String model) throws IOException {
        Path dir = Path.of(System.getProperty("gearbx.tokenizers", "../../shared/tokenizers"));
        return new ObjectMapper().readTree(dir.resolve(model).resolve("tokenizer_config.json").toFile());
    }

    static ChatTemplate fromConfig(String model) throws IOException {
        JsonNode c = tokenizerConfig(model);
        return ChatTemplate.of(model, c.get("chat_template").asText(), c.path("bos_token").asText(""),
                c.path("eos_token").asText(""));
    }

    @Test
    void llama3TemplateRendersTheHeaderFormat() throws IOException {
        String expected = "<|begin_of_text|>"
                + "<|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant.<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n2+2 is 4.<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nAnd 3+3?<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n";
        assertEquals(expected, fromConfig("llama3").render(CONVERSATION, true));
    }

    @Test
    void llama3TemplateTrimsContent() throws IOException {
        // "message['content'] | trim" binds before the concatenation
        assertEquals("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n",
                fromConfig("llama3").render(List.of(ChatMessage.user("  hi \n")), true));
    }

    @Test
    void qwen3TemplateRendersTheImStartFormat() throws IOException {
        String expected = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
                + "<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
                + "<|im_start|>assistant\n2+2 is 4.<|im_end|>\n"
                + "<|im_start|>user\nAnd 3+3?<|im_end|>\n"
                + "<|im_start|>assistant\n";
        ChatTemplate qwen3 = fromConfig("qwen3");
        assertEquals("", qwen3.bosToken());
        assertEquals(expected, qwen3.render(CONVERSATION, true));
        assertEquals(expected.substring(0, expected.length() - "<|im_start|>assistant\n".length()),
                qwen3.render(CONVERSATION, false));
    }

    @Test
    void qwen3TemplateThinkingBranches() throws IOException {
        ChatTemplate qwen3 = fromConfig("qwen3");
        // enable_thinking=false pre-fills an empty think block
        assertTrue(qwen3.render(CONVERSATION, true, Map.of("enable_thinking", false))
                .endsWith("<|im_start|>assistant\n<think>\n\n</think>\n\n"));
        // an assistant turn after the last user query keeps its reasoning (split/strip on '</think>')
        List<ChatMessage> withReasoning = List.of(ChatMessage.user("Q"),
                ChatMessage.assistant("<think>\nponder\n</think>\n\nanswer"));
        assertEquals("<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n<think>\nponder\n</think>\n\nanswer<|im_end|>\n",
                qwen3.render(withReasoning, false));
        // before the last user query the reasoning is dropped
        List<ChatMessage> dropped = List.of(ChatMessage.user("Q"), ChatMessage.assistant("<think>\nponder\n</think>\n\nanswer"),
                ChatMessage.user("Q2"));
        assertEquals("<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\nanswer<|im_end|>\n<|im_start|>user\nQ2<|im_end|>\n",
                qwen3.render(dropped, false));
    }

    @Test
    void qwen3TemplateWithToolsUsesPythonJson() throws IOException {
        Map<String, Object> fn = new LinkedHashMap<>();
        fn.put("name", "add");
        fn.put("parameters", Map.of("type", "object"));
        Map<String, Object> tool = new LinkedHashMap<>();
        tool.put("type", "function");
        tool.put("function", fn);
        String out = fromConfig("qwen3").render(List.of(ChatMessage.user("hi")), true, Map.of("tools", List.of(tool)));
        assertTrue(out.startsWith("<|im_start|>system\n# Tools\n"), out);
        assertTrue(out.contains("<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"add\", \"parameters\": {\"type\": \"object\"}}}\n</tools>"), out);
    }

    @Test
    void plainFallbackFormat() {
        ChatTemplate plain = ChatTemplate.plain();
        assertTrue(plain.isPlain());
        assertEquals("system: You are a helpful assistant.\nuser: What is 2+2?\nassistant: 2+2 is 4.\nuser: And 3+3?\nassistant:",
                plain.render(CONVERSATION, true));
        assertEquals("user: hi\n", plain.render(List.of(ChatMessage.user("hi")), false));
    }

    @Test
    void raiseExceptionBecomesChatTemplateException() {
        ChatTemplate t = ChatTemplate.of("strict", "{% if messages[0].role != 'user' %}{{ raise_exception('Conversation must start with a user message') }}{% endif %}ok",
                "", "");
        assertEquals("ok", t.render(List.of(ChatMessage.user("hi")), true));
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> t.render(List.of(ChatMessage.system("s")), true));
        assertEquals("strict", e.templateName());
        assertEquals("raise_exception: Conversation must start with a user message", e.problem());
        assertEquals("chat template 'strict': raise_exception: Conversation must start with a user message", e.getMessage());
        assertTrue(GearbxException.class.isInstance(e));
    }

    @Test
    void syntaxErrorsNameTheTemplate() {
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> ChatTemplate.of("broken", "{{ 1 + }}", "", "").render(CONVERSATION, true));
        assertEquals("broken", e.templateName());
        assertTrue(e.getMessage().startsWith("chat template 'broken': "), e.getMessage());
        ChatTemplateException unknown = assertThrows(ChatTemplateException.class,
                () -> ChatTemplate.of("x", "{{ no_such_function() }}", "", "").render(CONVERSATION, true));
        assertTrue(unknown.problem().contains("no_such_function"), unknown.problem());
    }

    @Test
    void strftimeNowAsLlama31CallsIt() {
        Clock clock = Clock.fixed(Instant.parse("2024-07-05T13:04:05Z"), ZoneOffset.UTC);
        ChatTemplate t = ChatTemplate.of("{%- set date_string = strftime_now(\"%d %b %Y\") %}Today Date: {{ date_string }}|{{ strftime_now('%Y-%m-%d %H:%M:%S %A %B %-d') }}",
                "", "").withClock(clock);
        assertEquals("Today Date: 05 Jul 2024|2024-07-05 13:04:05 Friday July 5", t.render(CONVERSATION, true));
    }

    @Test
    void jinjaFeaturesTemplatesUse() {
        String jinja = "{%- set ns = namespace(found=false, last=messages|length - 1) %}"
                + "{%- for m in messages[::-1] %}{%- if not ns.found and m.role == 'user' %}{%- set ns.found = true %}{%- set ns.last = (messages|length - 1) - loop.index0 %}{%- endif %}{%- endfor %}"
                + "{{- ns.last }}|{{ messages[1:] | map(attribute='role') | join(',') }}|{{ messages[-1].content }}"
                + "|{{ 'a,b,'.split(',') | length }}|{{ '--x--'.strip('-') }}|{{ 'Hi'.endswith('i') }}|{{ x is defined }}"
                + "|{{ {'k': [1, 'é\"']} | tojson(indent=2) }}";
        String out = ChatTemplate.of(jinja, "", "").render(CONVERSATION, true);
        assertEquals("3|user,assistant,user|And 3+3?|3|x|true|false|{\n  \"k\": [\n    1,\n    \"é\\\"\"\n  ]\n}", out);
    }

    @Test
    void fromGgufReadsTheTemplateAndSpecialTokenTexts(@TempDir Path dir) throws IOException {
        String jinja = tokenizerConfig("llama3").get("chat_template").asText();
        Path file = dir.resolve("chat.gguf");
        new GgufWriter()
                .put("general.architecture", GgufValue.ofString("llama"))
                .put("general.name", GgufValue.ofString("Tiny Chat"))
                .put("tokenizer.ggml.model", GgufValue.ofString("gpt2"))
                .put("tokenizer.ggml.tokens", GgufValue.ofStrings("a", "b", "<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"))
                .put("tokenizer.ggml.bos_token_id", GgufValue.ofUint32(2))
                .put("tokenizer.ggml.eos_token_id", GgufValue.ofUint32(3))
                .put(ChatTemplate.GGUF_KEY, GgufValue.ofString(jinja))
                .write(file);
        GgufMetadata md;
        try (GgufFile gguf = GgufFile.open(file)) {
            md = gguf.metadata();
        }
        ChatTemplate t = ChatTemplate.fromGguf(md);
        assertFalse(t.isPlain());
        assertEquals("tokenizer.chat_template of Tiny Chat", t.name());
        assertEquals("<|begin_of_text|>", t.bosToken());
        assertEquals("<|end_of_text|>", t.eosToken());
        assertEquals(jinja, t.source().orElseThrow());
        assertEquals("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n", t.render(List.of(ChatMessage.user("hi")), true));
    }

    @Test
    void fromGgufWithoutTemplateFallsBackToPlain(@TempDir Path dir) {
        Path file = dir.resolve("plain.gguf");
        new GgufWriter().put("general.architecture", GgufValue.ofString("llama"))
                .put("tokenizer.ggml.tokens", GgufValue.ofStrings("a", "b"))
                .put("tokenizer.ggml.bos_token_id", GgufValue.ofUint32(0xFFFF_FFFFL))
                .write(file);
        try (GgufFile gguf = GgufFile.open(file)) {
            ChatTemplate t = ChatTemplate.fromGguf(gguf.metadata());
            assertTrue(t.isPlain());
            assertEquals("user: hi\nassistant:", t.render(List.of(ChatMessage.user("hi")), true));
        }
    }

    @Test
    void messagesRejectNulls() {
        assertThrows(NullPointerException.class, () -> new ChatMessage("user", null));
        assertThrows(IllegalArgumentException.class, () -> new ChatMessage(" ", "x"));
        assertEquals(new ChatMessage("assistant", "x"), ChatMessage.assistant("x"));
    }
}
