package dev.gearbx.engine.sampling;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Sanity checks on cost for a Llama-3-sized vocabulary. The bounds are deliberately generous (they
 * catch an accidental full sort or per-call allocation storm, not regressions of a few percent);
 * the measured numbers are printed for the record.
 */
class SamplerPerformanceTest {
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

    /** Average microseconds per sample after warmup. */
    static double microsPerSample(SamplingParams params, float[] logits, int warmup, int rounds) {
        Sampler s = Sampler.of(params);
        int sink = 0;
        for (int i = 0; i < warmup; i++) {
            sink += s.sample(logits, VOCABULARY);
            s.accept(i % VOCABULARY);
        }
        long start = System.nanoTime();
        for (int i = 0; i < rounds; i++) {
            sink += s.sample(logits, VOCABULARY);
            s.accept(i % VOCABULARY);
        }
        long elapsed = System.nanoTime() - start;
        assertTrue(sink >= 0);
        return elapsed / 1_000.0 / rounds;
    }

    @Test
    void fullVocabularySampleIsFastAfterWarmup() {
        float[] logits = llmLikeLogits(1);
        SamplingParams defaults = SamplingParams.builder().seed(1).build();
        double greedy = microsPerSample(SamplingParams.greedy(), logits, 3_000, 2_000);
        double chain = microsPerSample(defaults, logits, 3_000, 2_000);
        // the repetition penalty changes logits in place; use a fresh copy for each such run
        double penalized = microsPerSample(defaults.toBuilder().repetitionPenalty(1.1f).build(), logits.clone(), 3_000, 2_000);
        double noTopK = microsPerSample(defaults.toBuilder().topK(0).build(), logits, 300, 200);
        double noTopKNoMinP = microsPerSample(defaults.toBuilder().topK(0).minP(0f).build(), logits, 300, 200);
        System.out.printf("sampling %d-token vocabulary, us/sample: greedy %.1f, defaults (k40 p.95 min.05) %.1f,"
                        + " with penalty %.1f, k off %.1f, k and min-p off %.1f%n",
                VOCABULARY, greedy, chain, penalized, noTopK, noTopKNoMinP);
        assertTrue(greedy < 1_000, "greedy " + greedy + " us");
        assertTrue(chain < 1_000, "default chain " + chain + " us");
        assertTrue(penalized < 1_000, "chain with penalty " + penalized + " us");
        // every token needs an exponential without top-k: still bounded well below a full sort
        assertTrue(noTopK < 10_000, "chain without top-k " + noTopK + " us");
        assertTrue(noTopKNoMinP < 10_000, "chain without top-k and min-p " + noTopKNoMinP + " us");
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
