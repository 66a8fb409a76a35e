/** Where models come from: plain GGUF paths and {@code ollama:NAME[:TAG]} references into Ollama's local store. */
@NullMarked
package dev.gearbx.reactive.models;

import org.jspecify.annotations.NullMarked;
