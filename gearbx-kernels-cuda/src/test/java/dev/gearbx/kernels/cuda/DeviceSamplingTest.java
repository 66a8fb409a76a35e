package dev.gearbx.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gearbx.engine.sampling.SamplingParams;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Which requests sample on the device, and the draws they take; runs everywhere (no GPU needed). */
class DeviceSamplingTest {
    private static SamplingParams topK(int k, float penalty) {
        return new SamplingParams(0.8f, k, 0.95f, 0.05f, penalty, 64, 42L);
    }

    @Test
    void greedyWithoutPenaltyIsTheGreedyKernel() {
        assertSame(DeviceSampling.GREEDY, DeviceSampling.of(SamplingParams.greedy(), 128256));
        assertTrue(DeviceSampling.GREEDY.greedy());
    }

    @Test
    void topKUpTo256BelowTheVocabularySamplesOnTheDevice() {
        DeviceSampling s = DeviceSampling.of(topK(40, 1f), 128256);
        assertEquals(new DeviceSampling(40, 0.8f, 0.95f, 0.05f, 42L), s);
        assertEquals(256, DeviceSampling.of(topK(256, 1f), 32000).topK());
        assertEquals(126, DeviceSampling.blocks(128256));
    }

    @Test
    void whatTheKernelCannotDoStaysOnTheHost() {
        assertNull(DeviceSampling.of(topK(40, 1.1f), 128256), "repetition penalty");
        assertNull(DeviceSampling.of(new SamplingParams(0f, 40, 0.95f, 0.05f, 1.1f, 64, 0L), 128256),
                "greedy with a repetition penalty");
        assertNull(DeviceSampling.of(topK(0, 1f), 128256), "no top-k: the chain keeps every token");
        assertNull(DeviceSampling.of(topK(257, 1f), 128256), "top-k above the kernel's 256");
        assertNull(DeviceSampling.of(topK(512, 1f), 512), "top-k not below the vocabulary");
        assertNull(DeviceSampling.of(topK(40, 1f), 256 * 1024 + 1), "vocabulary above 256 blocks of 1024");
        assertThrows(IllegalArgumentException.class, () -> new DeviceSampling(300, 1f, 1f, 0f, 0L));
    }

    @Test
    void uniformsAreTheSeededGeneratorsDrawsInOrder() {
        DeviceSampling s = DeviceSampling.of(topK(40, 1f), 1000);
        SplittableRandom r = new SplittableRandom(42L);
        double[] expected = new double[5];
        for (int i = 0; i < expected.length; i++) {
            expected[i] = r.nextDouble();
        }
        assertArrayEquals(expected, s.uniforms(5));
        assertArrayEquals(s.uniforms(5), s.uniforms(5), "the same seed, the same draws");
    }
}
