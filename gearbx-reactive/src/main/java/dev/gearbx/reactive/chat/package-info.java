/**
 * Chat messages and the chat templates that turn them into a prompt: a model's own Jinja template
 * (GGUF {@code tokenizer.chat_template}, rendered with Jinjava the way Hugging Face renders it) or a
 * plain documented format for models without one.
 */
@NullMarked
package dev.gearbx.reactive.chat;

import org.jspecify.annotations.NullMarked;
