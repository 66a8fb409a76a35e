/**
 * The OpenAI wire format as Jackson records, shared by the HTTP client backend
 * ({@link dev.gearbx.reactive.client}) and the server ({@link dev.gearbx.reactive.server}):
 * requests and responses of {@code /v1/chat/completions} and {@code /v1/completions}, their
 * streamed chunks, {@code /v1/models}, errors, and gearbx's extra {@code gearbx} field (a token's
 * entropy and gear), which OpenAI clients ignore. Field names are snake_case on the wire
 * ({@link dev.gearbx.reactive.openai.OpenAiJson#MAPPER}).
 */
@NullMarked
package dev.gearbx.reactive.openai;

import org.jspecify.annotations.NullMarked;
