package dev.gearbx.reactive;

import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.generate.GenerationResult;
import dev.gearbx.engine.generate.StopReason;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * A finished (or cancelled) generation.
 *
 * @param text the generated text, prompt excluded
 * @param tokenIds the generated token ids
 * @param promptTokens number of prompt tokens (BOS included)
 * @param stopReason why it ended
 * @param gearShares share of generated tokens per gear that was used, e.g. {@code {LOW=0.8, MID=0.2}}
 * @param tokensPerSecond generated tokens per second of decode time
 * @param timeToFirstTokenNanos from the start of the generation (first demand) to the first token
 * @param shifts gear shifts while decoding
 */
public record GenerationSummary(
        String text,
        int[] tokenIds,
        int promptTokens,
        StopReason stopReason,
        Map<Gear, Double> gearShares,
        double tokensPerSecond,
        long timeToFirstTokenNanos,
        long shifts) {

    public GenerationSummary {
        tokenIds = tokenIds.clone();
        // new EnumMap<>(map) throws on an empty map that is not an EnumMap (a generation with no token)
        EnumMap<Gear, Double> shares = new EnumMap<>(Gear.class);
        shares.putAll(gearShares);
        gearShares = Collections.unmodifiableMap(shares);
    }

    @Override
    public int[] tokenIds() {
        return tokenIds.clone();
    }

    /** Number of generated tokens. */
    public int tokens() {
        return tokenIds.length;
    }

    static GenerationSummary of(GenerationResult r) {
        return new GenerationSummary(r.text(), r.tokenIds(), r.promptTokens(), r.stopReason(), r.gearShares(),
                r.tokensPerSecond(), r.timeToFirstTokenNanos(), r.shifts());
    }
}
