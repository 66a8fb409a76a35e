package dev.gearbx.engine.generate;

import java.util.Objects;

/**
 * One candidate of a step's next-token distribution, as in OpenAI's {@code top_logprobs}.
 *
 * @param tokenId the token's id, or -1 when it is not known (a remote backend reports text only)
 * @param text the token's text (its bytes decoded as UTF-8; a partial character becomes U+FFFD)
 * @param logProbability natural log of its probability under the model (softmax of the raw
 *     logits, before sampling filters)
 */
public record TokenLogprob(int tokenId, String text, float logProbability) {
    public TokenLogprob {
        Objects.requireNonNull(text, "text");
    }
}
