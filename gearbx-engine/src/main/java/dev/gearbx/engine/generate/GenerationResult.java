package dev.gearbx.engine.generate;

import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.routing.Thresholds;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A finished generation.
 *
 * @param text the generated text (prompt not included)
 * @param tokenIds the generated token ids
 * @param promptTokens number of prompt tokens (BOS included)
 * @param stopReason why it stopped
 * @param prefillNanos time to ingest the prompt
 * @param timeToFirstTokenNanos from start to the first generated token
 * @param decodeNanos total time of the generated tokens' steps
 * @param gearSteps forward steps of generated tokens run at each gear
 * @param shifts gear shifts during decoding
 * @param thresholds the entropy thresholds routing used (null when pinned)
 */
public record GenerationResult(
        String text,
        int[] tokenIds,
        int promptTokens,
        StopReason stopReason,
        long prefillNanos,
        long timeToFirstTokenNanos,
        long decodeNanos,
        Map<Gear, Integer> gearSteps,
        long shifts,
        @Nullable Thresholds thresholds) {

    public GenerationResult {
        tokenIds = tokenIds.clone();
        EnumMap<Gear, Integer> steps = new EnumMap<>(Gear.class);
        steps.putAll(gearSteps);
        gearSteps = Collections.unmodifiableMap(steps);
    }

    @Override
    public int[] tokenIds() {
        return tokenIds.clone();
    }

    /** Generated tokens per second of decode time (prompt excluded). */
    public double tokensPerSecond() {
        return decodeNanos == 0 ? 0 : tokenIds.length * 1e9 / decodeNanos;
    }

    /** Share of generated tokens produced at each gear that was used, e.g. {@code {LOW=0.8, MID=0.2}}. */
    public Map<Gear, Double> gearShares() {
        int total = gearSteps.values().stream().mapToInt(Integer::intValue).sum();
        EnumMap<Gear, Double> shares = new EnumMap<>(Gear.class);
        if (total > 0) {
            gearSteps.forEach((g, n) -> {
                if (n > 0) {
                    shares.put(g, n / (double) total);
                }
            });
        }
        return Collections.unmodifiableMap(shares);
    }
}
