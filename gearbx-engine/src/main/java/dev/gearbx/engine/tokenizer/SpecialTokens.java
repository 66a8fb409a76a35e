package dev.gearbx.engine.tokenizer;

import java.util.Arrays;

/**
 * The special token ids of a vocabulary, read from GGUF metadata ({@code tokenizer.ggml.*}).
 *
 * @param bos beginning of sequence, or -1 when the model has none
 * @param eos end of sequence, or -1
 * @param endOfGeneration every id that ends generation (EOS, EOT, ...), sorted
 * @param addBos whether prompts get a leading BOS
 */
public record SpecialTokens(int bos, int eos, int[] endOfGeneration, boolean addBos) {

    public SpecialTokens {
        endOfGeneration = endOfGeneration.clone();
        Arrays.sort(endOfGeneration);
    }

    /** Whether generation should stop at {@code tokenId}. */
    public boolean isEndOfGeneration(int tokenId) {
        return Arrays.binarySearch(endOfGeneration, tokenId) >= 0;
    }

    @Override
    public int[] endOfGeneration() {
        return endOfGeneration.clone();
    }
}
