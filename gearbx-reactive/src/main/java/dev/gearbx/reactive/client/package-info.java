/**
 * A backend that streams from any OpenAI-compatible server (Ollama, llama.cpp server, vLLM, LM
 * Studio, gearbx's own server) over Reactor Netty: {@link dev.gearbx.reactive.client.OpenAiBackend},
 * plugged in with {@code Gearbx.builder().remote(...)}, so a {@link dev.gearbx.reactive.GearbxModel}
 * streams the same {@code Flux<StreamChunk>} from it as from a local model file.
 */
@NullMarked
package dev.gearbx.reactive.client;

import org.jspecify.annotations.NullMarked;
