package dev.gearbx.engine.model;

import dev.gearbx.engine.gguf.GgufMetadata;
import dev.gearbx.engine.tokenizer.Tokenizer;

/**
 * A causal language model the generation loop ({@link dev.gearbx.engine.generate.Generator}) can
 * drive, whatever computes its forward pass: {@link LlamaModel} on the CPU kernels, or another
 * backend's model (such as gearbx-djl's on libtorch). Thread-safe; each sequence has its own state.
 *
 * <pre>{@code
 * CausalModel model = LlamaModel.load(Path.of("stories260K.gguf"));
 * try (ModelSequence s = model.newSequence(64)) {
 *     float[] logits = null;
 *     for (int token : model.tokenizer().encode("Once upon a time")) {
 *         logits = s.forward(token);
 *     }
 * }
 * }</pre>
 */
public interface CausalModel {

    LlamaConfig config();

    Tokenizer tokenizer();

    /** The model's metadata under GGUF keys (architecture, chat template, special tokens). */
    GgufMetadata metadata();

    /**
     * A fresh sequence holding up to {@code capacity} tokens.
     *
     * @throws IllegalArgumentException if capacity is not in 1..contextLength
     */
    ModelSequence newSequence(int capacity);
}
