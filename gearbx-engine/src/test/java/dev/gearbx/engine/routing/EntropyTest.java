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
        assertEquals(logSumExp(logits), logZ[0], 1e-4);
    }

    @Test
    void maskedAndShiftedLogitsAgreeWithScalar() {
        // -inf (masked) entries and large offsets take the clamped loop; the others the unclamped one
        SplittableRandom r = new SplittableRandom(11);
        for (int n : new int[] {64, 1000, 128256}) {
            for (double offset : new double[] {0, 50, -60, 3000}) {
                for (boolean masked : new boolean[] {false, true}) {
                    float[] logits = new float[n];
                    for (int i = 0; i < n; i++) {
                        logits[i] = masked && i % 3 != 0 ? Float.NEGATIVE_INFINITY : (float) (r.nextGaussian() * 3 + offset);
                    }
                    float s = Entropy.bitsScalar(logits, n);
                    assertEquals(s, Entropy.bits(logits, n), 1e-5 * Math.max(1, s),
                            "n=" + n + " offset=" + offset + " masked=" + masked);
                }
            }
        }
    }

    @Test
    void wideRangeTakesTheClampedLoop() {
        // a few logits 200 below the rest: their 2^y would leave the float range, so they are clamped
        SplittableRandom r = new SplittableRandom(12);
        float[] logits = new float[20000];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) (r.nextGaussian() * 2 + (i % 97 == 0 ? -200 : 0));
        }
        float s = Entropy.bitsScalar(logits, logits.length);
        assertEquals(s, Entropy.bits(logits, logits.length), 1e-5 * s);
    }

    @Test
    void logitsBeyondTheVectorRangeUseTheScalarLoop() {
        // |k| >= 2^19: 16 k would not be an exact float
        SplittableRandom r = new SplittableRandom(13);
        float[] logits = new float[5000];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) (1e6 + r.nextGaussian() * 4);
        }
        float s = Entropy.bitsScalar(logits, logits.length);
        assertEquals(s, Entropy.bits(logits, logits.length), 1e-5 * s);
    }

    @Test
    void logNormalizerWithMaskedAndOffsetLogits() {
        SplittableRandom r = new SplittableRandom(14);
        for (double offset : new double[] {0, 40, -70, 1e4}) {
            float[] logits = new float[50000];
            for (int i = 0; i < logits.length; i++) {
                logits[i] = i % 5 == 0 ? Float.NEGATIVE_INFINITY : (float) (r.nextGaussian() * 4 + offset);
            }
            double[] logZ = new double[1];
            Entropy.bits(logits, logits.length, logZ);
            assertEquals(logSumExp(logits), logZ[0], 1e-6 * Math.max(1, Math.abs(maxOf(logits))), "offset=" + offset);
        }
    }

    @Test
    void nanAnywhereIsRejected() {
        for (int at : new int[] {0, 1234, 9999}) {
            float[] logits = new float[10000];
            Arrays.fill(logits, 1f);
            logits[at] = Float.NaN;
            assertThrows(IllegalArgumentException.class, () -> Entropy.bits(logits, logits.length), "at " + at);
            logits[5] = Float.NEGATIVE_INFINITY; // the clamped loop
            assertThrows(IllegalArgumentException.class, () -> Entropy.bits(logits, logits.length), "at " + at);
        }
        float[] allNaN = new float[1000];
        Arrays.fill(allNaN, Float.NaN);
        assertThrows(IllegalArgumentException.class, () -> Entropy.bits(allNaN, allNaN.length));
        float[] allMasked = new float[1000];
        Arrays.fill(allMasked, Float.NEGATIVE_INFINITY);
        assertThrows(IllegalArgumentException.class, () -> Entropy.bits(allMasked, allMasked.length));
        float[] plusInf = new float[1000];
        plusInf[700] = Float.POSITIVE_INFINITY;
        assertThrows(IllegalArgumentException.class, () -> Entropy.bits(plusInf, plusInf.length));
    }

    @Test
    void nanIsRejected() {
        float[] logits = {1, Float.NaN, 2};
        assertThrows(IllegalArgumentException.class, () -> Entropy.bits(logits, 3));
    }

    /** ln sum e^z in double, the textbook way (the reference for the log normalizer). */
    private static double logSumExp(float[] logits) {
        double max = maxOf(logits);
        double sum = 0;
        for (float z : logits) {
            sum += Math.exp(z - max);
        }
        return max + Math.log(sum);
    }

    private static double maxOf(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float z : logits) {
            max = Math.max(max, z);
        }
        return max;
    }
}
