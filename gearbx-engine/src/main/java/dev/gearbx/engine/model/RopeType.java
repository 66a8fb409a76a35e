package dev.gearbx.engine.model;

/** How RoPE pairs the dimensions of a head. */
public enum RopeType {
    /** Adjacent pairs (x[2i], x[2i+1]): llama.cpp's "normal" RoPE, GGUF {@code llama}. */
    INTERLEAVED,
    /** Halves (x[i], x[i + d/2]): llama.cpp's NEOX RoPE, GGUF {@code qwen2}. */
    NEOX
}
