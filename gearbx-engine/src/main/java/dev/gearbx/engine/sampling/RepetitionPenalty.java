package dev.gearbx.engine.sampling;

import java.util.Arrays;

/**
 * The last {@code lastN} accepted tokens and llama.cpp's repetition penalty over them: each distinct
 * token in the window has its logit divided by the penalty if positive, multiplied otherwise (once,
 * however often it occurs). Allocation-free per call after the first.
 */
final class RepetitionPenalty {
    private final float penalty;
    private final int[] window; // ring buffer
    private int head;
    private int count;
    /** stamps[token] == generation marks a token already penalized during the current call. */
    private int[] stamps = new int[0];
    private int generation;

    RepetitionPenalty(float penalty, int lastN) {
        this.penalty = penalty;
        this.window = new int[penalty == 1f ? 0 : lastN];
    }

    boolean enabled() {
        return window.length > 0;
    }

    void accept(int tokenId) {
        if (tokenId < 0) {
            throw new IllegalArgumentException("token id must be >= 0, got " + tokenId);
        }
        if (window.length == 0) {
            return;
        }
        window[head] = tokenId;
        head = head + 1 == window.length ? 0 : head + 1;
        if (count < window.length) {
            count++;
        }
    }

    void apply(float[] logits, int vocabularySize) {
        if (count == 0) {
            return;
        }
        if (stamps.length < vocabularySize) {
            stamps = new int[vocabularySize];
            generation = 0;
        }
        if (++generation == 0) { // wrapped after 2^32 calls: old stamps could collide
            Arrays.fill(stamps, 0);
            generation = 1;
        }
        for (int i = 0; i < count; i++) {
            int t = window[i];
            if (t >= vocabularySize || stamps[t] == generation) {
                continue;
            }
            stamps[t] = generation;
            float l = logits[t];
            logits[t] = l > 0f ? l / penalty : l * penalty;
        }
    }
}
