package dev.gearbx.reactive;

import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.generate.GeneratedToken;

/**
 * One generated token with its routing telemetry, as a stream emits it.
 *
 * @param index 0 for the first generated token
 * @param tokenId the token's id
 * @param text the text this token completes (empty while a UTF-8 character is incomplete)
 * @param entropy entropy in bits of the distribution the token was drawn from
 * @param smoothedEntropy the entropy window's average after this step
 * @param gear the gear of the forward step that produced the token
 * @param shifted whether that gear differs from the previous step's
 * @param logProbability natural log of the token's probability under the model (before sampling filters)
 * @param stepNanos time of the step (forward, entropy, gear decision, sampling) that produced it
 */
public record StreamChunk(
        int index,
        int tokenId,
        String text,
        float entropy,
        float smoothedEntropy,
        Gear gear,
        boolean shifted,
        float logProbability,
        long stepNanos) {

    static StreamChunk of(GeneratedToken t) {
        return new StreamChunk(t.index(), t.tokenId(), t.text(), t.entropy(), t.smoothedEntropy(), t.gear(), t.shifted(),
                t.logProbability(), t.stepNanos());
    }
}
