package dev.gearbx.engine.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class EntropyTest {
    @ParameterizedTest
    @ValueSource(ints = {2, 7, 16, 512, 2049, 32000, 128256})
    void uniformIsLog2V(int n) {
        float[] logits = new float[n];
        Arrays.fill(logits, 3.5f);
        assertEquals(Math.log(n) / Math.log(2), Entropy.bits(logits, n), 1e-4);
        assertEquals(Math.log(n) / Math.log(2), Entropy.bitsScalar(logits, n), 1e-4);
    }

    @Test
    void oneHotIsZero() {
        float[] logits = new float[50000];
        Arrays.fill(logits, -1e4f);
        logits[31337] = 1e4f;
        assertEquals(0, Entropy.bits(logits, logits.length), 1e-6);
    }

    @Test
    void knownSmallDistributions() {
        // p = (1/2, 1/4, 1/4): H = 1.5 bits
        float[] logits = {(float) Math.log(2), 0, 0};
        assertEquals(1.5, Entropy.bits(logits, 3), 1e-6);
        // p = (0.9, 0.1): H = 0.468996 bits
        float[] two = {(float) Math.log(0.9), (float) Math.log(0.1)};
        assertEquals(0.4689956, Entropy.bits(two, 2), 1e-6);
        // -infinity logits carry no probability
        float[] masked = {0, 0, Float.NEGATIVE_INFINITY, 0, 0};
        assertEquals(2.0, Entropy.bits(masked, 5), 1e-6);
    }

    @Test
    void noOverflowForHugeLogits() {
        float[] logits = new float[3000];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = i % 2 == 0 ? 1e4f : -1e4f;
        }
        // 1500 equal maxima: log2(1500)
        assertEquals(Math.log(1500) / Math.log(2), Entropy.bits(logits, logits.length), 1e-4);
    }

    @Test
    void vectorAgreesWithScalarOnRandomLogits() {
        SplittableRandom r = new SplittableRandom(3);
        for (int n : new int[] {1, 3, 17, 100, 2047, 2048, 2049, 10000, 151936}) {
            for (double spread : new double[] {0.1, 2, 20}) {
                float[] logits = new float[n];
                for (int i = 0; i < n; i++) {
                    logits[i] = (float) (r.nextGaussian() * spread + (i % 4000 == 7 ? 30 : 0));
                }
                float v = Entropy.bits(logits, n);
                float s = Entropy.bitsScalar(logits, n);
                assertEquals(s, v, 1e-4 * Math.max(1, s), "n=" + n + " spread=" + spread);
            }
        }
    }

    @Test
    void logNormalizerComesFromTheSamePass() {
        SplittableRandom r = new SplittableRandom(9);
        float[] logits = new float[50000];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) (r.nextGaussian() * 4);
        }
        double[] logZ = new double[1];
        Entropy.bits(logits, logits.length, logZ);
        double max = Double.NEGATIVE_INFINITY;
        for (float z : logits) {
            max = Math.max(max, z);
        }
        double sum = 0;
        for (float z : logits) {
            sum += Math.exp(z - max);
        }
        assertEquals(max + Math.log(sum), logZ[0], 1e-4);
    }

    @Test
    void nanIsRejected() {
        float[] logits = {1, Float.NaN, 2};
        assertThrows(IllegalArgumentException.class, () -> Entropy.bits(logits, 3));
    }
}
