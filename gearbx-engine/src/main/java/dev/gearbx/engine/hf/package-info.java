/**
 * Hugging Face model folders: memory-mapped safetensors (single or sharded), {@code config.json}
 * of the Llama family and Qwen2, {@code tokenizer.json} and {@code tokenizer_config.json}, seen
 * through GGUF's metadata keys and tensor names so that {@link dev.gearbx.engine.model.LlamaModel}
 * loads a folder like a GGUF file; and converters between the two formats.
 */
@NullMarked
package dev.gearbx.engine.hf;

import org.jspecify.annotations.NullMarked;
