package dev.gearbx.engine.tokenizer;

/**
 * Turns text into token ids and token ids back into bytes.
 *
 * <p>Decoding is byte-oriented on purpose: a token may hold part of a UTF-8 character, so text is
 * assembled with a {@link StreamingDecoder}, which never splits a character across chunks.
 */
public interface Tokenizer {

    /** Number of entries in the vocabulary; valid ids are {@code 0 .. vocabularySize()-1}. */
    int vocabularySize();

    /**
     * Encodes text. When {@code parseSpecial} is true, special tokens written literally in the text
     * (such as {@code <|eot_id|>}) become their ids; otherwise they are encoded as plain text.
     *
     * @param addBos prepend the beginning-of-sequence token when the model has one
     */
    int[] encode(String text, boolean addBos, boolean parseSpecial);

    /** Encodes plain text, prepending BOS when the model's metadata asks for it. */
    default int[] encode(String text) {
        return encode(text, specialTokens().addBos(), false);
    }

    /**
     * The bytes a token stands for when detokenized (UTF-8, possibly a partial character). Control
     * tokens such as BOS/EOS give an empty array.
     *
     * @throws IllegalArgumentException if the id is outside the vocabulary
     */
    byte[] tokenBytes(int tokenId);

    /** The token's string as stored in the vocabulary (for display and debugging). */
    String tokenText(int tokenId);

    /** Beginning/end-of-sequence and end-of-turn ids and the add-BOS flag. */
    SpecialTokens specialTokens();

    /** Whether generation should stop at this token (EOS, EOT and similar end-of-generation ids). */
    default boolean isEndOfGeneration(int tokenId) {
        return specialTokens().isEndOfGeneration(tokenId);
    }

    /** Decodes a whole sequence of ids to text (invalid UTF-8 is replaced by U+FFFD). */
    default String decode(int[] tokenIds) {
        StreamingDecoder decoder = new StreamingDecoder(this);
        StringBuilder sb = new StringBuilder();
        for (int id : tokenIds) {
            sb.append(decoder.next(id));
        }
        sb.append(decoder.flush());
        return sb.toString();
    }
}
