package dev.gearbx.reactive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.gguf.GgufFile;
import dev.gearbx.engine.gguf.GgufTensorInfo;
import dev.gearbx.engine.gguf.GgufValue;
import dev.gearbx.engine.gguf.GgufWriter;
import dev.gearbx.engine.routing.RoutingOptions;
import dev.gearbx.reactive.chat.ChatMessage;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Chat messages rendered with the model's own template, then streamed. */
class ChatStreamTest {
    @TempDir
    Path dir;

    private static String text(GearbxModel m, List<ChatMessage> messages) {
        return m.chat(messages, StreamOptions.builder().maxTokens(32).routing(RoutingOptions.pinned(Gear.HIGH)).build())
                .map(StreamChunk::text).collect(Collectors.joining()).block();
    }

    @Test
    void templateFromTheGgufFileIsRenderedWithSpecialTokensAndASingleBos() {
        Path withTemplate = dir.resolve("chat.gguf");
        try (GgufFile src = GgufFile.open(ReactiveModels.stories260K())) {
            GgufWriter w = new GgufWriter().putAll(src.metadata()).put("tokenizer.chat_template",
                    GgufValue.ofString("{{ bos_token }}{% for m in messages %}{{ m['content'] }}{% endfor %}"));
            for (GgufTensorInfo t : src.tensors()) {
                w.tensor(t.name(), t.type(), t.shape(), src.tensorData(t));
            }
            w.write(withTemplate);
        }
        try (GearbxModel m = Gearbx.builder().model(withTemplate).build()) {
            assertEquals("<s>Once upon a time", m.chatTemplate().render(List.of(ChatMessage.user("Once upon a time")), true));
            // "<s>" becomes BOS (not text), no second BOS: the same tokens as the plain prompt, so the same text
            assertEquals(ReactiveModels.REFERENCE, text(m, List.of(ChatMessage.user("Once upon a time"))));
        }
    }

    @Test
    void modelWithoutTemplateUsesThePlainFormat() {
        try (GearbxModel m = Gearbx.builder().model(ReactiveModels.stories260K()).build()) {
            assertTrue(m.chatTemplate().isPlain());
            String reply = text(m, List.of(ChatMessage.user("Tell me a story.")));
            assertTrue(!reply.isEmpty(), "some reply");
        }
    }
}
