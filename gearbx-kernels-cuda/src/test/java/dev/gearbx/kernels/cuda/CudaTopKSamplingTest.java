package dev.gearbx.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gearbx.engine.routing.Entropy;
import dev.gearbx.engine.sampling.Sampler;
import dev.gearbx.engine.sampling.SamplingParams;
import dev.gearbx.reactive.spi.Availability;
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
        Availability a = new CudaBackendProvider().availability();
        assumeTrue(a.usable(), "CUDA backend unusable here: " + a.reason());
        device = CudaDevice.open(0);
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

    /** Prints the kernels' time on a Llama-3 vocabulary (for BENCHMARKS.md; no assertion on speed). */
    @Test
    void kernelTimes() {
        int vocab = 128256;
        float[] logits = new float[vocab];
        SplittableRandom random = new SplittableRandom(3);
        for (int i = 0; i < vocab; i++) {
            logits[i] = (float) (random.nextGaussian() * 3);
        }
        StringBuilder line = new StringBuilder("sampling kernel, V=" + vocab + ", median of 5 x 50 launches (us):");
        for (int k : new int[] {0, 1, 40, 256}) {
            SamplingParams p = k == 0 ? SamplingParams.greedy() : new SamplingParams(0.8f, k, 0.95f, 0.05f, 1f, 64, 1L);
            line.append(String.format(java.util.Locale.ROOT, " %s %.1f;", k == 0 ? "greedy" : "top-k " + k,
                    time(logits, p, 50)));
        }
        System.out.println(line);
    }

    private static double time(float[] logits, SamplingParams p, int launches) {
        DeviceSampling s = java.util.Objects.requireNonNull(DeviceSampling.of(p, logits.length));
        int vocab = logits.length;
        int blocks = s.greedy() ? Math.clamp((vocab + 1023) / 1024, 1, 128) : DeviceSampling.blocks(vocab);
        List<DeviceBuffer> buffers = new ArrayList<>();
        try {
            DeviceBuffer l = alloc(buffers, 4L * vocab, "logits");
            DeviceBuffer ctrl = alloc(buffers, 16, "ctrl");
            DeviceBuffer tokens = alloc(buffers, 4L * launches * 5, "tokens");
            DeviceBuffer entropies = alloc(buffers, 4L * launches * 5, "entropies");
            DeviceBuffer logProbabilities = alloc(buffers, 4L * launches * 5, "log probabilities");
            DeviceBuffer partials = alloc(buffers, 36L * DeviceSampling.MAX_BLOCKS, "partials");
            DeviceBuffer counter = alloc(buffers, 16, "counter");
            DeviceBuffer candidates = alloc(buffers, 8L * Math.max(1, s.topK()) * blocks, "candidates");
            DeviceBuffer uniforms = alloc(buffers, 8L * launches * 5, "uniforms");
            for (DeviceBuffer b : buffers) {
                device.zero(b);
            }
            device.uploadFloats(l, 0, logits);
            Launch launch = s.greedy()
                    ? Launch.of(device, "sample_greedy", blocks, 256, l, vocab, ctrl, tokens, entropies, logProbabilities,
                            partials, counter)
                    : Launch.of(device, "sample_topk", blocks, 256, l, vocab, ctrl, tokens, entropies, logProbabilities,
                            partials, counter, candidates, uniforms, s.topK(), 1f / s.temperature(), s.minP(), s.topP());
            double[] us = new double[5];
            for (int r = 0; r < us.length; r++) {
                us[r] = 1e3 * device.time(() -> {
                    for (int i = 0; i < launches; i++) {
                        device.launch(launch, device.dependentLaunch());
                    }
                }) / launches;
            }
            java.util.Arrays.sort(us);
            return us[us.length / 2];
        } finally {
            for (DeviceBuffer b : buffers) {
                device.free(b);
            }
        }
    }

    private record Result(int token, float entropy, float logProbability) {}

    /** One launch of {@code sample_topk} at position 0 with the first uniform of the sampler's generator. */
    private static Result run(float[] logits, SamplingParams p) {
        DeviceSampling s = DeviceSampling.of(p, logits.length);
        if (s == null) {
            throw new IllegalStateException("not a device sampling: " + p);
        }
        int vocab = logits.length;
        int blocks = DeviceSampling.blocks(vocab);
        List<DeviceBuffer> buffers = new ArrayList<>();
        try {
            DeviceBuffer l = alloc(buffers, 4L * vocab, "logits");
            DeviceBuffer ctrl = alloc(buffers, 16, "ctrl");
            DeviceBuffer tokens = alloc(buffers, 16, "tokens");
            DeviceBuffer entropies = alloc(buffers, 16, "entropies");
            DeviceBuffer logProbabilities = alloc(buffers, 16, "log probabilities");
            DeviceBuffer partials = alloc(buffers, 36L * blocks, "partials");
            DeviceBuffer counter = alloc(buffers, 16, "counter");
            DeviceBuffer candidates = alloc(buffers, 8L * s.topK() * blocks, "candidates");
            DeviceBuffer uniforms = alloc(buffers, 8, "uniforms");
            for (DeviceBuffer b : buffers) {
                device.zero(b);
            }
            device.uploadFloats(l, 0, logits);
            device.uploadDoubles(uniforms, 0, s.uniforms(1));
            device.launch(Launch.of(device, "sample_topk", blocks, 256, l, vocab, ctrl, tokens, entropies,
                    logProbabilities, partials, counter, candidates, uniforms, s.topK(), 1f / s.temperature(), s.minP(),
                    s.topP()), device.dependentLaunch());
            int[] token = new int[1];
            float[] entropy = new float[1];
            float[] logProbability = new float[1];
            device.readInts(tokens, 0, token, 1);
            device.readFloats(entropies, 0, entropy, 1);
            device.readFloats(logProbabilities, 0, logProbability, 1);
            int[] c = new int[2];
            device.readInts(ctrl, 0, c, 2);
            assertEquals(1, c[0], "ctrl[0] advanced");
            assertEquals(token[0], c[1], "ctrl[1] holds the token");
            return new Result(token[0], entropy[0], logProbability[0]);
        } finally {
            for (DeviceBuffer b : buffers) {
                device.free(b);
            }
        }
    }

    private static DeviceBuffer alloc(List<DeviceBuffer> buffers, long bytes, String what) {
        DeviceBuffer b = device.alloc(bytes, what);
        buffers.add(b);
        return b;
    }
}
