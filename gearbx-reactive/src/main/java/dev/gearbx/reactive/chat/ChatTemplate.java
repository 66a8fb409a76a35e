package dev.gearbx.reactive.chat;

import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import dev.gearbx.engine.gguf.GgufMetadata;
import dev.gearbx.engine.gguf.GgufValue;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Turns a conversation into the prompt text a chat model was trained on. Immutable and thread-safe.
 *
 * <p>A model's own template is a Jinja template (GGUF {@code tokenizer.chat_template}, the {@code
 * chat_template} of a Hugging Face {@code tokenizer_config.json}). It is rendered the way Hugging
 * Face's {@code apply_chat_template} renders it: {@code trim_blocks} and {@code lstrip_blocks} on,
 * with the variables {@code messages} (a list of maps with {@code role} and {@code content}), {@code
 * add_generation_prompt}, {@code bos_token} and {@code eos_token}, any extra variables the caller
 * passes (such as {@code enable_thinking} or {@code tools}), and the helpers {@code
 * raise_exception(message)}, {@code strftime_now(format)} and {@code tojson}. See {@link
 * JinjaEnvironment} for the Jinja dialect and its limits.
 *
 * <p>A model without a template gets the {@linkplain #plain() plain format}: one {@code role:
 * content} line per message and, with {@code addGenerationPrompt}, a final {@code assistant:}.
 *
 * <p>The rendered text contains the template's special tokens as text (for Llama 3 it starts with
 * {@code <|begin_of_text|>}): tokenize it with special-token parsing on and, when it already starts
 * with the BOS text, without adding another BOS.
 *
 * <pre>{@code
 * ChatTemplate template = ChatTemplate.fromGguf(gguf.metadata());
 * String prompt = template.render(List.of(ChatMessage.system("Be brief."), ChatMessage.user("Hi")), true);
 * }</pre>
 */
public final class ChatTemplate {
    /** The GGUF metadata key that holds a model's Jinja chat template. */
    public static final String GGUF_KEY = "tokenizer.chat_template";

    private static final String PLAIN_NAME = "plain";

    private final String name;
    private final @Nullable String source;
    private final @Nullable String adapted;
    private final String bosToken;
    private final String eosToken;
    private final @Nullable Clock clock;

    private ChatTemplate(String name, @Nullable String source, String bosToken, String eosToken, @Nullable Clock clock) {
        this.name = Objects.requireNonNull(name, "name");
        this.source = source;
        this.adapted = source == null ? null : JinjaEnvironment.adapt(source);
        this.bosToken = Objects.requireNonNull(bosToken, "bosToken");
        this.eosToken = Objects.requireNonNull(eosToken, "eosToken");
        this.clock = clock;
    }

    /** A Jinja template with the given BOS and EOS token texts (empty when the model has none). */
    public static ChatTemplate of(String jinja, String bosToken, String eosToken) {
        return of("inline", jinja, bosToken, eosToken);
    }

    /** Like {@link #of(String, String, String)}, with the name error messages use. */
    public static ChatTemplate of(String name, String jinja, String bosToken, String eosToken) {
        return new ChatTemplate(name, Objects.requireNonNull(jinja, "jinja"), bosToken, eosToken, null);
    }

    /**
     * The plain format for models without a template: each message as {@code role + ": " + content +
     * "\n"}, then {@code "assistant:"} when a generation prompt is asked for. No special tokens.
     */
    public static ChatTemplate plain() {
        return new ChatTemplate(PLAIN_NAME, null, "", "", null);
    }

    /**
     * The chat template a GGUF file carries in {@value #GGUF_KEY}, with its BOS and EOS token texts
     * looked up in {@code tokenizer.ggml.tokens} by {@code tokenizer.ggml.bos_token_id} / {@code
     * eos_token_id} (empty when absent); the {@linkplain #plain() plain format} when the file has no
     * template.
     *
     * @throws dev.gearbx.engine.gguf.GgufMetadataException when a key has the wrong type
     */
    public static ChatTemplate fromGguf(GgufMetadata metadata) {
        Optional<String> jinja = metadata.findString(GGUF_KEY);
        if (jinja.isEmpty() || jinja.get().isBlank()) {
            return plain();
        }
        String name = GGUF_KEY + metadata.findString("general.name").map(n -> " of " + n).orElse("");
        String[] tokens = metadata.contains("tokenizer.ggml.tokens") ? metadata.getStringArray("tokenizer.ggml.tokens") : new String[0];
        return new ChatTemplate(name, jinja.get(), tokenText(metadata, "tokenizer.ggml.bos_token_id", tokens),
                tokenText(metadata, "tokenizer.ggml.eos_token_id", tokens), null);
    }

    private static String tokenText(GgufMetadata metadata, String key, String[] tokens) {
        Optional<GgufValue> id = metadata.find(key);
        if (id.isEmpty() || !(id.get().value() instanceof Long l) || l < 0 || l >= tokens.length) {
            return ""; // absent, the "none" id 0xFFFFFFFF, or not a token of this vocabulary
        }
        return tokens[(int) (long) l];
    }

    /** This template reading the time for {@code strftime_now} from {@code clock} (default: the system clock). */
    public ChatTemplate withClock(Clock clock) {
        return new ChatTemplate(name, source, bosToken, eosToken, Objects.requireNonNull(clock, "clock"));
    }

    /** The name error messages use, e.g. {@code tokenizer.chat_template of Llama 3 8B}, or {@code plain}. */
    public String name() {
        return name;
    }

    /** The Jinja source, or empty for the plain format. */
    public Optional<String> source() {
        return Optional.ofNullable(source);
    }

    /** Whether this is the plain fallback format. */
    public boolean isPlain() {
        return source == null;
    }

    public String bosToken() {
        return bosToken;
    }

    public String eosToken() {
        return eosToken;
    }

    /**
     * The prompt for {@code messages}.
     *
     * @param addGenerationPrompt end with the header that starts the assistant's reply
     * @throws ChatTemplateException naming this template and the problem when rendering fails
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        return render(messages, addGenerationPrompt, Map.of());
    }

    /**
     * The prompt for {@code messages}, with extra template variables (for example {@code
     * enable_thinking}, {@code tools}, {@code date_string}). The standard variables win over extras
     * of the same name. The plain format ignores the extras.
     *
     * @throws ChatTemplateException naming this template and the problem when rendering fails
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt, Map<String, ?> variables) {
        Objects.requireNonNull(messages, "messages");
        Objects.requireNonNull(variables, "variables");
        if (adapted == null) {
            return renderPlain(messages, addGenerationPrompt);
        }
        List<Map<String, Object>> list = new ArrayList<>(messages.size());
        for (ChatMessage m : messages) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("role", m.role());
            entry.put("content", m.content());
            list.add(entry);
        }
        Map<String, Object> context = new HashMap<>(variables);
        context.put("messages", list);
        context.put("add_generation_prompt", addGenerationPrompt);
        context.put("bos_token", bosToken);
        context.put("eos_token", eosToken);
        if (clock != null) {
            context.put(JinjaEnvironment.CLOCK_VARIABLE, clock);
        }
        RenderResult result;
        try {
            result = JinjaEnvironment.JINJAVA.renderForResult(adapted, context);
        } catch (RuntimeException e) {
            throw failure(e.getMessage() == null ? e.toString() : e.getMessage(), e);
        }
        for (TemplateError error : result.getErrors()) {
            if (error.getSeverity() == TemplateError.ErrorType.FATAL) {
                JinjaEnvironment.TemplateRaisedException raised = raised(error.getException());
                if (raised != null) {
                    throw failure("raise_exception: " + raised.getMessage(), null);
                }
                String where = error.getLineno() > 0 ? "line " + error.getLineno() + ": " : "";
                throw failure(where + error.getMessage(), error.getException());
            }
        }
        return result.getOutput();
    }

    private ChatTemplateException failure(String problem, @Nullable Throwable cause) {
        return new ChatTemplateException(name, problem, cause);
    }

    private static JinjaEnvironment.@Nullable TemplateRaisedException raised(@Nullable Throwable t) {
        for (int depth = 0; t != null && depth < 16; depth++, t = t.getCause()) {
            if (t instanceof JinjaEnvironment.TemplateRaisedException r) {
                return r;
            }
        }
        return null;
    }

    private static String renderPlain(List<ChatMessage> messages, boolean addGenerationPrompt) {
        StringBuilder out = new StringBuilder();
        for (ChatMessage m : messages) {
            out.append(m.role()).append(": ").append(m.content()).append('\n');
        }
        if (addGenerationPrompt) {
            out.append("assistant:");
        }
        return out.toString();
    }

    @Override
    public String toString() {
        return "ChatTemplate[" + name + "]";
    }
}
