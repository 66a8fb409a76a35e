package dev.gearbx.engine.sampling;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Cost checks for a Llama-3-sized vocabulary that do not depend on timing: sampling allocates
 * nothing per call after warm-up. (Speed itself is measured by benchmarks, not by tests.)
 */
class SamplerAllocationTest {
    static final int VOCABULARY = 128_256;

    static float[] llmLikeLogits(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] logits = new float[VOCABULARY];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) (r.nextGaussian() * 2.0);
        }
        for (int i = 0; i < 20; i++) { // a few clear favourites, as after a real forward pass
            logits[r.nextInt(VOCABULARY)] = 12f + (float) r.nextGaussian();
        }
        return logits;
    }

    @Test
    void noAllocationPerCallAfterWarmup() {
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        float[] logits = llmLikeLogits(2);
        for (SamplingParams p : new SamplingParams[] {
                SamplingParams.greedy().toBuilder().repetitionPenalty(1.2f).build(),
                SamplingParams.builder().seed(3).repetitionPenalty(1.2f).build(),
                SamplingParams.builder().seed(3).topK(0).minP(0f).build()}) {
            Sampler s = Sampler.of(p);
            float[] l = logits.clone();
            for (int i = 0; i < 300; i++) {
                s.accept(i);
                s.sample(l, VOCABULARY);
            }
            long id = Thread.currentThread().threadId();
            long before = threads.getThreadAllocatedBytes(id);
            for (int i = 0; i < 300; i++) {
                s.accept(i);
                s.sample(l, VOCABULARY);
            }
            long allocated = threads.getThreadAllocatedBytes(id) - before;
            // a single buffer of the vocabulary would be 500 KB; allow measurement noise only
            assertTrue(allocated < 16_384, p + " allocated " + allocated + " bytes over 300 calls");
        }
    }
}
