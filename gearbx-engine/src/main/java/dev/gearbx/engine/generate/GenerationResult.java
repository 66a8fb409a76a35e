package dev.gearbx.engine.generate;

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
 */
public record GenerationResult(
        String text,
        int[] tokenIds,
        int promptTokens,
        StopReason stopReason,
        long prefillNanos,
        long timeToFirstTokenNanos,
        long decodeNanos) {

    public GenerationResult {
        tokenIds = tokenIds.clone();
    }

    @Override
    public int[] tokenIds() {
        return tokenIds.clone();
    }

    /** Generated tokens per second of decode time (prompt excluded). */
    public double tokensPerSecond() {
        return decodeNanos == 0 ? 0 : tokenIds.length * 1e9 / decodeNanos;
    }
}
