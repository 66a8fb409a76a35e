package dev.gearbx.engine.generate;

import dev.gearbx.engine.gear.Gear;
import java.util.List;

/**
 * One generated token with its routing telemetry.
 *
 * @param index 0 for the first generated token
 * @param tokenId the token's id
 * @param text the text this token completes (may be empty while a UTF-8 character is incomplete)
 * @param logProbability natural log of the token's probability under the model (before sampling filters)
 * @param entropy entropy in bits of the distribution this token was drawn from
 * @param smoothedEntropy the entropy monitor's window average after this step
 * @param gear the gear of the forward step that produced this token
 * @param shifted whether that gear differs from the previous step's
 * @param stepNanos time of the forward step, routing and sampling that produced it
 * @param topLogprobs the step's most likely tokens, most likely first (ties by lower id), as many
 *     as the request's {@code topLogprobs}; empty when it asked for none
 */
public record GeneratedToken(
        int index,
        int tokenId,
        String text,
        float logProbability,
        float entropy,
        float smoothedEntropy,
        Gear gear,
        boolean shifted,
        long stepNanos,
        List<TokenLogprob> topLogprobs) {

    public GeneratedToken {
        topLogprobs = List.copyOf(topLogprobs);
    }

    /** A token without top log-probabilities. */
    public GeneratedToken(int index, int tokenId, String text, float logProbability, float entropy,
            float smoothedEntropy, Gear gear, boolean shifted, long stepNanos) {
        this(index, tokenId, text, logProbability, entropy, smoothedEntropy, gear, shifted, stepNanos, List.of());
    }
}
