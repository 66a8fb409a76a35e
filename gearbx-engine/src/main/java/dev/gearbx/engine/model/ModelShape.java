package dev.gearbx.engine.model;

/**
 * The shape of a Llama-architecture model, for making synthetic models of a known size.
 *
 * @param name short name used in file names and reports
 * @param dim embedding width
 * @param layers transformer blocks
 * @param heads query heads
 * @param kvHeads key/value heads
 * @param ffnDim SwiGLU hidden width
 * @param vocabularySize tokens
 * @param contextLength context length written to the metadata
 */
public record ModelShape(String name, int dim, int layers, int heads, int kvHeads, int ffnDim, int vocabularySize,
        int contextLength) {

    /** TinyStories 110M / Llama-2-style 110M: dim 768, 12 layers, 12 heads, ffn 2048, vocab 32000. */
    public static final ModelShape M110 = new ModelShape("110m", 768, 12, 12, 12, 2048, 32000, 1024);

    /** A 1B Llama: dim 2048, 16 layers, 32 heads, 8 KV heads, ffn 8192, vocab 32000. */
    public static final ModelShape B1 = new ModelShape("1b", 2048, 16, 32, 8, 8192, 32000, 2048);

    public ModelShape {
        if (dim <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || ffnDim <= 0 || vocabularySize < 259 || contextLength <= 0) {
            throw new IllegalArgumentException("invalid model shape " + this);
        }
        if (dim % heads != 0 || heads % kvHeads != 0) {
            throw new IllegalArgumentException("shape " + name + ": dim " + dim + " must divide by heads " + heads
                    + " and heads by kvHeads " + kvHeads);
        }
    }

    /** Looks up a predefined shape by name ({@code 110m}, {@code 1b}). */
    public static ModelShape named(String name) {
        return switch (name) {
            case "110m" -> M110;
            case "1b" -> B1;
            default -> throw new IllegalArgumentException("unknown model shape '" + name + "' (known: 110m, 1b)");
        };
    }

    /** Parameters of the matrices (embedding and output included, norms excluded). */
    public long matrixParameters() {
        long headDim = dim / heads;
        long perLayer = (long) dim * heads * headDim * 2 + (long) dim * kvHeads * headDim * 2 + 3L * dim * ffnDim;
        return perLayer * layers + 2L * vocabularySize * dim;
    }
}
