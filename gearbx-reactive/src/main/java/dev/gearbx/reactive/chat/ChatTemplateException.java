package dev.gearbx.reactive.chat;

import dev.gearbx.engine.GearbxException;
import org.jspecify.annotations.Nullable;

/**
 * A chat template could not be rendered: a syntax error, a Jinja feature the engine lacks, or the
 * template itself refusing the conversation through {@code raise_exception(message)}. The message
 * names the template and the problem.
 */
public final class ChatTemplateException extends GearbxException {
    private static final long serialVersionUID = 1L;

    private final String templateName;
    private final String problem;

    public ChatTemplateException(String templateName, String problem) {
        this(templateName, problem, null);
    }

    public ChatTemplateException(String templateName, String problem, @Nullable Throwable cause) {
        super("chat template '" + templateName + "': " + problem, cause);
        this.templateName = templateName;
        this.problem = problem;
    }

    /** The template's name, e.g. {@code tokenizer.chat_template of Llama 3 8B}. */
    public String templateName() {
        return templateName;
    }

    /** What went wrong, without the template name (for {@code raise_exception}: the template's own message). */
    public String problem() {
        return problem;
    }
}
