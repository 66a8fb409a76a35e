package dev.gearbx.reactive;

import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.generate.GeneratedToken;
import dev.gearbx.engine.generate.TokenLogprob;
import java.util.List;

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
 * @param topLogprobs the step's most likely tokens with their log-probabilities, most likely first
 *     (as many as {@link StreamOptions#topLogprobs()} asked for; empty by default)
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
        long stepNanos,
        List<TokenLogprob> topLogprobs) {

    public StreamChunk {
        topLogprobs = List.copyOf(topLogprobs);
    }

    /** A chunk without top log-probabilities. */
    public StreamChunk(int index, int tokenId, String text, float entropy, float smoothedEntropy, Gear gear,
            boolean shifted, float logProbability, long stepNanos) {
        this(index, tokenId, text, entropy, smoothedEntropy, gear, shifted, logProbability, stepNanos, List.of());
    }

    /** This chunk with another text (e.g. cut before a stop sequence). */
    public StreamChunk withText(String text) {
        return new StreamChunk(index, tokenId, text, entropy, smoothedEntropy, gear, shifted, logProbability, stepNanos,
                topLogprobs);
    }

    static StreamChunk of(GeneratedToken t) {
        return new StreamChunk(t.index(), t.tokenId(), t.text(), t.entropy(), t.smoothedEntropy(), t.gear(), t.shifted(),
                t.logProbability(), t.stepNanos(), t.topLogprobs());
    }
}
