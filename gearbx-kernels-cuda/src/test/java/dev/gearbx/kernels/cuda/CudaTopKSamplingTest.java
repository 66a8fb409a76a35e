package dev.gearbx.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gearbx.engine.routing.Entropy;
import dev.gearbx.engine.sampling.Sampler;
import dev.gearbx.engine.sampling.SamplingParams;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The {@code sample_topk} kernel alone against the engine's sampler on the same logits: random vocabularies of one
 * to 149 blocks, many equal logits (ties broken by id), -inf logits, each filter on and off. Runs on the GPU
 * machine; skipped with the reason elsewhere.
 */
class CudaTopKSamplingTest {
    private static CudaDevice device;

    @BeforeAll
    static void open() {
        device = GpuTests.openOrSkip();
    }

    @AfterAll
    static void close() {
        if (device != null) {
            device.close();
        }
    }

    @Test
    void sameTokenAsTheEngineSampler() {
        SplittableRandom random = new SplittableRandom(2026);
        int[] vocabularies = {300, 1024, 1025, 5000, 32000, 128256, 151936};
        int[] ks = {1, 2, 5, 40, 100, 256};
        float[] temperatures = {0.3f, 0.8f, 1.5f};
        float[] topPs = {1f, 0.95f, 0.5f};
        float[] minPs = {0f, 0.05f};
        List<String> mismatches = new ArrayList<>();
        int trials = 0;
        for (int vocab : vocabularies) {
            for (int t = 0; t < 12; t++) {
                int k = ks[random.nextInt(ks.length)];
                if (k >= vocab) {
                    continue;
                }
                SamplingParams p = new SamplingParams(temperatures[random.nextInt(3)], k, topPs[random.nextInt(3)],
                        minPs[random.nextInt(2)], 1f, 64, random.nextLong());
                // logits on a coarse grid (many ties) or continuous, a few -inf
                boolean coarse = t % 2 == 0;
                float[] logits = new float[vocab];
                for (int i = 0; i < vocab; i++) {
                    double g = random.nextGaussian() * 3;
                    logits[i] = coarse ? Math.round(g * 4) / 4f : (float) g;
                    if (random.nextInt(50) == 0) {
                        logits[i] = Float.NEGATIVE_INFINITY;
                    }
                }
                int expected = Sampler.of(p).sample(logits.clone(), vocab);
                Result actual = run(logits, p);
                trials++;
                if (actual.token() != expected) {
                    mismatches.add("V=" + vocab + " " + p + (coarse ? " coarse" : "") + ": device " + actual.token()
                            + ", engine " + expected);
                }
                double[] normalizer = new double[1];
                double entropy = Entropy.bits(logits, vocab, normalizer);
                assertEquals(entropy, actual.entropy(), 1e-3, "entropy, V=" + vocab);
                assertEquals(logits[expected] - normalizer[0], actual.logProbability(), 1e-4, "log p, V=" + vocab);
            }
        }
        System.out.println("sample_topk: " + trials + " trials, " + mismatches.size() + " mismatches " + mismatches);
        assertEquals(List.of(), mismatches);
    }

    /**
     * Prints the kernels' time on a Llama-3 vocabulary (figures for BENCHMARKS.md; no assertion on speed) and checks
     * what the timed launches produced: every launch advanced the position, and each token is the argmax (greedy,
     * top-k 1) or among the k highest logits.
     */
    @Test
    void kernelTimes() {
        int vocab = 128256;
        float[] logits = new float[vocab];
        SplittableRandom random = new SplittableRandom(3);
        for (int i = 0; i < vocab; i++) {
            logits[i] = (float) (random.nextGaussian() * 3);
        }
        int launches = 50;
        int rounds = 5;
        StringBuilder line = new StringBuilder("sampling kernel, V=" + vocab + ", median of " + rounds + " x " + launches
                + " launches (us):");
        for (int k : new int[] {0, 1, 40, 256}) {
            SamplingParams p = k == 0 ? SamplingParams.greedy() : new SamplingParams(0.8f, k, 0.95f, 0.05f, 1f, 64, 1L);
            try (Rig rig = new Rig(logits, p, launches * rounds)) {
                double[] us = new double[rounds];
                for (int r = 0; r < rounds; r++) {
                    us[r] = 1e3 * device.time(() -> {
                        for (int i = 0; i < launches; i++) {
                            rig.launch();
                        }
                    }) / launches;
                }
                java.util.Arrays.sort(us);
                line.append(String.format(java.util.Locale.ROOT, " %s %.1f;", k == 0 ? "greedy" : "top-k " + k,
                        us[rounds / 2]));
                assertEquals(launches * rounds, rig.position(), "every launch advanced the position");
                int[] tokens = rig.tokens(launches * rounds);
                int best = Sampler.of(SamplingParams.greedy()).sample(logits.clone(), logits.length);
                for (int t : tokens) {
                    if (k <= 1) {
                        assertEquals(best, t, "greedy / top-k 1 token");
                    } else {
                        int higher = 0;
                        for (float z : logits) {
                            higher += z > logits[t] ? 1 : 0;
                        }
                        assertTrue(higher < k, "token " + t + " has " + higher + " higher logits, top-k " + k);
                    }
                }
            }
        }
        System.out.println(line);
    }

    private record Result(int token, float entropy, float logProbability) {}

    /** One launch of {@code sample_topk} at position 0 with the first uniform of the sampler's generator. */
    private static Result run(float[] logits, SamplingParams p) {
        try (Rig rig = new Rig(logits, p, 1)) {
            rig.launch();
            int[] c = rig.ctrl();
            assertEquals(1, c[0], "ctrl[0] advanced");
            int token = rig.tokens(1)[0];
            assertEquals(token, c[1], "ctrl[1] holds the token");
            return new Result(token, rig.floats(rig.entropies), rig.floats(rig.logProbabilities));
        }
    }

    /**
     * The device buffers one sampling kernel reads and writes (all zeroed; the logits uploaded; the uniforms of the
     * first {@code positions} draws of the sampler's seed for top-k) and its launch: greedy or top-k as {@code p}
     * says.
     */
    private static final class Rig implements AutoCloseable {
        private final List<DeviceBuffer> buffers = new ArrayList<>();
        private final DeviceBuffer ctrl;
        private final DeviceBuffer tokens;
        private final DeviceBuffer entropies;
        private final DeviceBuffer logProbabilities;
        private final Launch launch;

        Rig(float[] logits, SamplingParams p, int positions) {
            DeviceSampling s = DeviceSampling.of(p, logits.length);
            if (s == null) {
                throw new IllegalStateException("not a device sampling: " + p);
            }
            int vocab = logits.length;
            int blocks = s.greedy() ? DeviceDecoder.greedyBlocks(vocab) : DeviceSampling.blocks(vocab);
            try {
                DeviceBuffer l = alloc(4L * vocab, "logits");
                ctrl = alloc(16, "ctrl");
                tokens = alloc(4L * positions, "tokens");
                entropies = alloc(4L * positions, "entropies");
                logProbabilities = alloc(4L * positions, "log probabilities");
                DeviceBuffer partials = alloc(36L * blocks, "partials");
                DeviceBuffer counter = alloc(16, "counter");
                DeviceBuffer candidates = alloc(8L * Math.max(1, s.topK()) * blocks, "candidates");
                DeviceBuffer uniforms = alloc(8L * positions, "uniforms");
                for (DeviceBuffer b : buffers) {
                    device.zero(b);
                }
                device.uploadFloats(l, 0, logits);
                if (!s.greedy()) {
                    device.uploadDoubles(uniforms, 0, s.uniforms(positions));
                }
                launch = s.greedy()
                        ? Launch.of(device, "sample_greedy", blocks, 256, l, vocab, ctrl, tokens, entropies,
                                logProbabilities, partials, counter)
                        : Launch.of(device, "sample_topk", blocks, 256, l, vocab, ctrl, tokens, entropies,
                                logProbabilities, partials, counter, candidates, uniforms, s.topK(),
                                1f / s.temperature(), s.minP(), s.topP());
            } catch (RuntimeException | Error e) {
                close();
                throw e;
            }
        }

        private DeviceBuffer alloc(long bytes, String what) {
            DeviceBuffer b = device.alloc(bytes, what);
            buffers.add(b);
            return b;
        }

        void launch() {
            device.launch(launch, device.dependentLaunch());
        }

        int[] ctrl() {
            int[] c = new int[2];
            device.readInts(ctrl, 0, c, 2);
            return c;
        }

        int position() {
            return ctrl()[0];
        }

        int[] tokens(int count) {
            int[] t = new int[count];
            device.readInts(tokens, 0, t, count);
            return t;
        }

        /** Entry 0 of a float ring. */
        float floats(DeviceBuffer ring) {
            float[] v = new float[1];
            device.readFloats(ring, 0, v, 1);
            return v[0];
        }

        @Override
        public void close() {
            for (DeviceBuffer b : buffers) {
                device.free(b);
            }
        }
    }
}
