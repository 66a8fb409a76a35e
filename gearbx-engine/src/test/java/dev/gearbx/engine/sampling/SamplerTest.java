package dev.gearbx.engine.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gearbx.engine.GearbxException;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SamplerTest {

    /** All filters off. */
    static SamplingParams.Builder plain(float temperature, long seed) {
        return SamplingParams.builder().temperature(temperature).topK(0).topP(1f).minP(0f).seed(seed);
    }

    static float[] logitsOf(double... probabilities) {
        float[] l = new float[probabilities.length];
        for (int i = 0; i < l.length; i++) {
            l[i] = (float) Math.log(probabilities[i]);
        }
        return l;
    }

    static double[] softmax(float[] logits, double temperature) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double[] p = new double[logits.length];
        double z = 0;
        for (int i = 0; i < p.length; i++) {
            p[i] = Math.exp((logits[i] - max) / temperature);
            z += p[i];
        }
        for (int i = 0; i < p.length; i++) {
            p[i] /= z;
        }
        return p;
    }

    static int[] counts(Sampler s, float[] logits, int draws) {
        int[] c = new int[logits.length];
        for (int i = 0; i < draws; i++) {
            c[s.sample(logits, logits.length)]++;
        }
        return c;
    }

    // ---------------------------------------------------------------- factory and greedy

    @Test
    void factoryPicksImplementation() {
        assertInstanceOf(GreedySampler.class, Sampler.of(SamplingParams.greedy()));
        assertInstanceOf(ChainSampler.class, Sampler.of(SamplingParams.builder().seed(1).build()));
    }

    @Test
    void greedyPicksArgmaxWithTiesToLowestId() {
        Sampler g = Sampler.of(SamplingParams.greedy());
        assertEquals(4, g.sample(new float[] {0.1f, 2f, -3f, 1.9f, 2.5f}, 5));
        assertEquals(1, g.sample(new float[] {1f, 3f, 3f, 2f, 3f}, 5));
        assertEquals(0, g.sample(new float[] {7f, 7f, 7f}, 3));
        assertEquals(2, g.sample(new float[] {Float.NaN, -1f, 5f, Float.NaN}, 4));
        assertEquals(1, g.sample(new float[] {Float.NEGATIVE_INFINITY, -1e30f}, 2));
        assertEquals(1, g.sample(new float[] {0f, Float.POSITIVE_INFINITY, Float.POSITIVE_INFINITY}, 3));
    }

    @Test
    void onlyTheFirstVocabularySizeLogitsCount() {
        float[] logits = {0f, 1f, 9f};
        assertEquals(1, Sampler.of(SamplingParams.greedy()).sample(logits, 2));
        assertEquals(1, Sampler.of(plain(1f, 1).topK(1).build()).sample(logits, 2));
        Sampler chain = Sampler.of(plain(1f, 1).build());
        for (int i = 0; i < 100; i++) {
            assertTrue(chain.sample(logits, 2) < 2);
        }
    }

    @Test
    void badVocabularySizeIsRejected() {
        for (Sampler s : new Sampler[] {Sampler.of(SamplingParams.greedy()), Sampler.of(plain(1f, 1).build())}) {
            assertThrows(IllegalArgumentException.class, () -> s.sample(new float[3], 4));
            assertThrows(IllegalArgumentException.class, () -> s.sample(new float[3], 0));
            assertThrows(IllegalArgumentException.class, () -> s.accept(-1));
        }
    }

    @Test
    void noUsableLogitIsAnError() {
        float[] bad = {Float.NaN, Float.NEGATIVE_INFINITY, Float.NaN};
        for (Sampler s : new Sampler[] {
                Sampler.of(SamplingParams.greedy()),
                Sampler.of(plain(1f, 1).build()),
                Sampler.of(SamplingParams.builder().seed(1).topK(2).build())}) {
            GearbxException e = assertThrows(GearbxException.class, () -> s.sample(bad.clone(), 3));
            assertTrue(e.getMessage().contains("NaN or negative infinity"), e.getMessage());
        }
    }

    @Test
    void chainSkipsNanAndNegativeInfinityAndHonorsPositiveInfinity() {
        Sampler s = Sampler.of(plain(1f, 3).build());
        float[] logits = {Float.NaN, 0f, Float.NEGATIVE_INFINITY, 0f};
        for (int i = 0; i < 1000; i++) {
            int t = s.sample(logits, 4);
            assertTrue(t == 1 || t == 3, "got " + t);
        }
        float[] inf = {0f, Float.POSITIVE_INFINITY, 5f, Float.POSITIVE_INFINITY};
        for (int i = 0; i < 100; i++) {
            assertEquals(1, s.sample(inf, 4));
        }
    }

    // ---------------------------------------------------------------- determinism

    @Test
    void sameSeedGivesSameSequenceDifferentSeedsDiffer() {
        float[] logits = new float[1000];
        SplittableRandom r = new SplittableRandom(5);
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) r.nextGaussian();
        }
        int[] a = sequence(SamplingParams.builder().seed(42).topK(0).build(), logits, 500);
        int[] b = sequence(SamplingParams.builder().seed(42).topK(0).build(), logits, 500);
        int[] c = sequence(SamplingParams.builder().seed(43).topK(0).build(), logits, 500);
        assertArrayEquals(a, b);
        assertNotEquals(Arrays.toString(a), Arrays.toString(c));
        // with the defaults (top-k 40) too
        assertArrayEquals(sequence(SamplingParams.builder().seed(9).build(), logits, 200),
                sequence(SamplingParams.builder().seed(9).build(), logits, 200));
    }

    private static int[] sequence(SamplingParams p, float[] logits, int n) {
        Sampler s = Sampler.of(p);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = s.sample(logits, logits.length);
        }
        return out;
    }

    // ---------------------------------------------------------------- distribution and temperature

    @Test
    void empiricalDistributionMatchesSoftmax() {
        float[] logits = {1.0f, 2.0f, 0.5f, -1f, 3f, 0f, 2.5f, -2f};
        double[] expected = softmax(logits, 1.0);
        int draws = 200_000;
        int[] c = counts(Sampler.of(plain(1f, 12345).build()), logits, draws);
        double chi2 = 0;
        double maxAbs = 0;
        for (int i = 0; i < logits.length; i++) {
            double e = expected[i] * draws;
            chi2 += (c[i] - e) * (c[i] - e) / e;
            maxAbs = Math.max(maxAbs, Math.abs(c[i] / (double) draws - expected[i]));
        }
        // 7 degrees of freedom: P(chi2 > 24.32) = 0.001
        assertTrue(chi2 < 24.32, "chi2 " + chi2 + " counts " + Arrays.toString(c));
        assertTrue(maxAbs < 0.005, "max abs error " + maxAbs);
    }

    @Test
    void temperatureScalesTheDistribution() {
        float[] logits = {1.0f, 2.0f, 0.5f, -1f, 3f};
        int draws = 100_000;
        for (float t : new float[] {0.5f, 2f}) {
            double[] expected = softmax(logits, t);
            int[] c = counts(Sampler.of(plain(t, 77).build()), logits, draws);
            for (int i = 0; i < logits.length; i++) {
                assertEquals(expected[i], c[i] / (double) draws, 0.006, "T=" + t + " token " + i);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(floats = {1e-3f, 1e-5f, 1e-8f, 1e-30f, Float.MIN_VALUE})
    void temperatureNearZeroApproachesGreedy(float temperature) {
        SplittableRandom r = new SplittableRandom(11);
        Sampler greedy = Sampler.of(SamplingParams.greedy());
        Sampler cold = Sampler.of(plain(temperature, 3).build());
        for (int trial = 0; trial < 50; trial++) {
            float[] logits = new float[500];
            for (int i = 0; i < logits.length; i++) {
                logits[i] = (float) r.nextInt(-1_000, 1_000) / 10f; // gaps >= 0.1 between distinct values
            }
            int top = greedy.sample(logits, logits.length);
            long ties = 0;
            for (float l : logits) {
                ties += l == logits[top] ? 1 : 0;
            }
            if (ties > 1) {
                continue; // exact ties stay a uniform choice at any temperature
            }
            for (int i = 0; i < 20; i++) {
                assertEquals(top, cold.sample(logits, logits.length));
            }
        }
    }

    @Test
    void lowerTemperatureConcentratesOnTheArgmax() {
        float[] logits = {1.0f, 2.0f, 0.5f, -1f, 3f};
        double previous = 0;
        for (float t : new float[] {4f, 1f, 0.5f, 0.1f}) {
            int[] c = counts(Sampler.of(plain(t, 5).build()), logits, 20_000);
            double share = c[4] / 20_000.0;
            assertTrue(share > previous, "T=" + t + " share " + share);
            previous = share;
        }
        assertTrue(previous > 0.99);
    }

    // ---------------------------------------------------------------- top-k

    @Test
    void topKOneEqualsGreedy() {
        SplittableRandom r = new SplittableRandom(21);
        Sampler greedy = Sampler.of(SamplingParams.greedy());
        for (int trial = 0; trial < 200; trial++) {
            float[] logits = new float[1 + r.nextInt(2000)];
            for (int i = 0; i < logits.length; i++) {
                logits[i] = Math.round(r.nextGaussian() * 20) / 10f; // plenty of ties
            }
            Sampler k1 = Sampler.of(SamplingParams.builder().topK(1).temperature(1.5f).seed(trial).build());
            assertEquals(greedy.sample(logits, logits.length), k1.sample(logits, logits.length));
        }
    }

    @Test
    void topKKeepsTheKBestBestFirst() {
        float[] logits = {0.5f, 3f, -1f, 2f, 3f, 1f, 2.5f};
        ChainSampler s = new ChainSampler(plain(1f, 1).topK(4).build());
        int n = s.filter(logits.clone(), logits.length);
        assertEquals(4, n);
        assertArrayEquals(new int[] {1, 4, 6, 3}, ids(s, n));
        assertEquals(1f, s.candidateWeight(0));
        assertEquals(1f, s.candidateWeight(1));
        assertEquals((float) Math.exp(-0.5), s.candidateWeight(2), 1e-6f);
        // draws stay inside the top-k
        int[] c = counts(s, logits, 20_000);
        assertEquals(0, c[0] + c[2] + c[5]);
    }

    @Test
    void topKLargerThanUsableTokens() {
        float[] logits = {Float.NEGATIVE_INFINITY, 1f, Float.NaN, 2f, Float.NEGATIVE_INFINITY};
        ChainSampler s = new ChainSampler(plain(1f, 1).topK(4).build());
        int n = s.filter(logits.clone(), logits.length);
        assertArrayEquals(new int[] {3, 1}, ids(s, n));
    }

    // ---------------------------------------------------------------- top-p

    // token:                          0     1     2     3     4
    static final double[] NUCLEUS = {0.05, 0.30, 0.10, 0.40, 0.15};

    @Test
    void topPKeepsExactlyTheExpectedNucleus() {
        float[] logits = logitsOf(NUCLEUS);
        // sorted: 3 (0.40), 1 (0.30), 4 (0.15), 2 (0.10), 0 (0.05); cumulative .40 .70 .85 .95 1
        assertNucleus(logits, 0.35f, 0, 3);
        assertNucleus(logits, 0.40f - 1e-4f, 0, 3);
        assertNucleus(logits, 0.41f, 0, 3, 1);
        assertNucleus(logits, 0.65f, 0, 3, 1);
        assertNucleus(logits, 0.75f, 0, 3, 1, 4);
        assertNucleus(logits, 0.8f, 0, 3, 1, 4);
        assertNucleus(logits, 0.9f, 0, 3, 1, 4, 2);
        assertNucleus(logits, 0.99f, 0, 3, 1, 4, 2, 0);
        assertNucleus(logits, 1f, 0, 3, 1, 4, 2, 0);
        // the same through the top-k (already sorted) path
        assertNucleus(logits, 0.75f, 4, 3, 1, 4);
        assertNucleus(logits, 0.99f, 4, 3, 1, 4, 2); // top-k cut token 0 first
        assertNucleus(logits, 0.99f, 2, 3, 1);
    }

    private static void assertNucleus(float[] logits, float topP, int topK, int... expectedBestFirst) {
        ChainSampler s = new ChainSampler(plain(1f, 1).topP(topP).topK(topK).build());
        int n = s.filter(logits.clone(), logits.length);
        int[] got = ids(s, n);
        if (topP < 1f || topK > 0) { // filtered candidates come out best first
            assertArrayEquals(expectedBestFirst, got, "topP " + topP + " topK " + topK);
        } else {
            assertArrayEquals(sorted(expectedBestFirst), sorted(got));
        }
    }

    @Test
    void topPDrawsFollowTheRenormalizedNucleus() {
        float[] logits = logitsOf(NUCLEUS);
        int draws = 100_000;
        int[] c = counts(Sampler.of(plain(1f, 8).topP(0.8f).build()), logits, draws);
        assertEquals(0, c[0] + c[2]);
        assertEquals(0.40 / 0.85, c[3] / (double) draws, 0.006);
        assertEquals(0.30 / 0.85, c[1] / (double) draws, 0.006);
        assertEquals(0.15 / 0.85, c[4] / (double) draws, 0.006);
    }

    /** Large vocabularies exercise the growing partial selection; compared against a full sort. */
    @Test
    void filtersMatchAFullSortReference() {
        SplittableRandom r = new SplittableRandom(2024);
        int checked = 0;
        for (int vocabulary : new int[] {1, 7, 100, 5_000, 20_000}) {
            for (double spread : new double[] {0.3, 1, 4}) {
                for (int topK : new int[] {0, 1, 10, 300, 70_000}) {
                    for (float topP : new float[] {1f, 0.95f, 0.5f, 0.05f}) {
                        for (float minP : new float[] {0f, 0.05f, 0.5f}) {
                            float temperature = new float[] {0.3f, 1f, 2f}[r.nextInt(3)];
                            float[] logits = new float[vocabulary];
                            for (int i = 0; i < vocabulary; i++) {
                                logits[i] = (float) (r.nextGaussian() * spread);
                            }
                            if (vocabulary > 10) {
                                logits[r.nextInt(vocabulary)] = Float.NEGATIVE_INFINITY;
                                logits[r.nextInt(vocabulary)] = Float.NaN;
                            }
                            SamplingParams p = SamplingParams.builder().temperature(temperature)
                                    .topK(topK).topP(topP).minP(minP).seed(1).build();
                            ChainSampler s = new ChainSampler(p);
                            int n = s.filter(logits.clone(), vocabulary);
                            int[] expected = reference(logits, p);
                            assertEquals(Arrays.toString(sorted(expected)), Arrays.toString(sorted(ids(s, n))), p.toString());
                            checked++;
                        }
                    }
                }
            }
        }
        assertEquals(5 * 3 * 5 * 4 * 3, checked);
    }

    /** Straightforward llama.cpp-order chain with a full sort: the set of kept token ids. */
    private static int[] reference(float[] logits, SamplingParams p) {
        // sort by (logit descending, id ascending) through primitive long keys
        long[] keys = new long[logits.length];
        int n = 0;
        for (int i = 0; i < logits.length; i++) {
            if (logits[i] > Float.NEGATIVE_INFINITY) {
                int bits = Float.floatToIntBits(logits[i]);
                int ascending = bits ^ ((bits >> 31) & 0x7fffffff);
                keys[n++] = ((long) ~ascending << 32) | i;
            }
        }
        Arrays.sort(keys, 0, n);
        int[] ord = new int[n];
        for (int i = 0; i < n; i++) {
            ord[i] = (int) keys[i];
        }
        int kept = p.topK() > 0 ? Math.min(p.topK(), n) : n;
        float max = logits[ord[0]];
        float invT = 1f / p.temperature();
        double[] w = new double[kept];
        double z = 0;
        for (int i = 0; i < kept; i++) {
            float d = logits[ord[i]] - max;
            w[i] = d == 0 ? 1 : (float) Math.exp(d * invT);
            z += w[i];
        }
        int byTopP = kept;
        double cum = 0;
        for (int i = 0; i < kept && p.topP() < 1f; i++) { // like llama.cpp, top-p 1 is off
            cum += w[i];
            if (cum >= p.topP() * z) {
                byTopP = i + 1;
                break;
            }
        }
        int byMinP = 0;
        while (byMinP < kept && w[byMinP] >= p.minP()) {
            byMinP++;
        }
        int size = Math.min(byTopP, byMinP);
        int[] out = new int[size];
        for (int i = 0; i < size; i++) {
            out[i] = ord[i];
        }
        return out;
    }

    // ---------------------------------------------------------------- min-p

    @Test
    void minPRemovesExactlyTheExpectedTokens() {
        // token:                        0    1     2    3    4
        float[] logits = logitsOf(0.5, 0.2, 0.04, 0.1, 0.16);
        // minP 0.25: threshold 0.125 -> keeps 0, 1, 4; drops 3 (0.1) and 2 (0.04)
        assertMinP(logits, 0.25f, 0, 1, 4);
        // minP 0.1: threshold 0.05 -> drops only 2
        assertMinP(logits, 0.1f, 0, 1, 3, 4);
        assertMinP(logits, 0.9f, 0);
        assertMinP(logits, 0.07f, 0, 1, 2, 3, 4); // threshold 0.035 < 0.04
    }

    private static void assertMinP(float[] logits, float minP, int... expected) {
        for (int topK : new int[] {0, 5, 4}) {
            ChainSampler s = new ChainSampler(plain(1f, 1).minP(minP).topK(topK).build());
            int n = s.filter(logits.clone(), logits.length);
            int[] exp = topK == 4 ? Arrays.stream(expected).filter(t -> t != 2).toArray() : expected;
            assertArrayEquals(sorted(exp), sorted(ids(s, n)), "minP " + minP + " topK " + topK);
        }
    }

    @Test
    void minPDrawsFollowTheRenormalizedSurvivors() {
        float[] logits = logitsOf(0.5, 0.2, 0.04, 0.1, 0.16);
        int draws = 100_000;
        int[] c = counts(Sampler.of(plain(1f, 4).minP(0.25f).build()), logits, draws);
        assertEquals(0, c[2] + c[3]);
        assertEquals(0.5 / 0.86, c[0] / (double) draws, 0.006);
        assertEquals(0.2 / 0.86, c[1] / (double) draws, 0.006);
        assertEquals(0.16 / 0.86, c[4] / (double) draws, 0.006);
    }

    // ---------------------------------------------------------------- repetition penalty

    @Test
    void repetitionPenaltyDemotesRecentTokens() {
        Sampler g = Sampler.of(SamplingParams.greedy().toBuilder().repetitionPenalty(2f).build());
        float[] logits = {1.0f, 0.9f, -0.5f, -0.6f};
        assertEquals(0, g.sample(logits.clone(), 4)); // nothing accepted yet
        g.accept(0);
        g.accept(2);
        g.accept(0); // repeated in the window: penalized once, not twice
        float[] l = logits.clone();
        assertEquals(1, g.sample(l, 4));
        assertArrayEquals(new float[] {0.5f, 0.9f, -1.0f, -0.6f}, l); // positive divided, negative multiplied
    }

    @Test
    void repetitionPenaltyOnlyLooksAtTheLastN() {
        Sampler g = Sampler.of(SamplingParams.greedy().toBuilder().repetitionPenalty(2f).repetitionLastN(2).build());
        float[] logits = {1.0f, 0.9f, -0.5f, -0.6f};
        g.accept(0);
        float[] l = logits.clone();
        assertEquals(1, g.sample(l, 4));
        g.accept(3);
        g.accept(3); // window is now {3, 3}: token 0 has left it
        l = logits.clone();
        assertEquals(0, g.sample(l, 4));
        assertArrayEquals(new float[] {1.0f, 0.9f, -0.5f, -1.2f}, l);
        g.accept(1);
        g.accept(0); // window {1, 0}
        l = logits.clone();
        g.sample(l, 4);
        assertArrayEquals(new float[] {0.5f, 0.45f, -0.5f, -0.6f}, l);
    }

    @Test
    void repetitionPenaltyInTheChainAndOutOfRangeTokens() {
        SamplingParams p = plain(1f, 1).topK(1).repetitionPenalty(1.5f).repetitionLastN(8).build();
        Sampler s = Sampler.of(p);
        float[] logits = {3f, 2.5f, 0f};
        s.accept(0);
        s.accept(1_000_000); // beyond this vocabulary: ignored
        float[] l = logits.clone();
        assertEquals(1, s.sample(l, 3));
        assertEquals(2f, l[0]);
    }

    @Test
    void repetitionPenaltyOffLeavesLogitsAlone() {
        for (SamplingParams p : new SamplingParams[] {
                SamplingParams.builder().seed(1).build(), // penalty 1.0
                SamplingParams.builder().seed(1).repetitionPenalty(1.3f).repetitionLastN(0).build()}) {
            Sampler s = Sampler.of(p);
            float[] logits = {3f, 2.5f, -1f};
            s.accept(0);
            s.accept(2);
            float[] l = logits.clone();
            s.sample(l, 3);
            assertArrayEquals(logits, l);
        }
    }

    // ---------------------------------------------------------------- helpers

    static int[] ids(ChainSampler s, int n) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = s.candidateId(i);
        }
        return out;
    }

    static int[] sorted(int[] a) {
        int[] c = a.clone();
        Arrays.sort(c);
        return c;
    }

}
