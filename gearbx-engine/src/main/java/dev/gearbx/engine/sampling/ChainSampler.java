package dev.gearbx.engine.sampling;

import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * The stochastic chain, in llama.cpp's common order: repetition penalty, top-k, softmax with
 * temperature, top-p, min-p, renormalize, draw.
 *
 * <p>Cost per call for a vocabulary of V tokens: one pass over the logits; with top-k set, a
 * k-element heap kept during that pass (O(V) in practice, O(V log k) worst case) and only k
 * exponentials. Without top-k every token gets an exponential, and top-p sorts only a growing
 * prefix found by partial selection (64, 256, ... tokens) rather than the whole vocabulary. The
 * candidate buffers are sized once (to k, or to the vocabulary) and reused; nothing is allocated
 * per call afterwards.
 *
 * <p>Top-p and min-p each keep a prefix of the tokens ordered by probability, so applying them in
 * either order keeps the same set: this implementation applies min-p's cheap threshold first and
 * then finds top-p's cut (measured against the full softmax mass, as llama.cpp does) among the
 * survivors, which usually avoids any large sort.
 */
final class ChainSampler implements Sampler {
    /** First prefix length tried when top-p must search an unsorted candidate set. */
    private static final int FIRST_NUCLEUS_GUESS = 64;

    private final float invTemperature;
    private final int topK;
    private final float topP;
    private final float minP;
    private final RepetitionPenalty penalty;
    private final RandomGenerator random;

    /** Candidates: token ids and, in parallel, their logits and later their unnormalized probabilities. */
    private int[] ids = new int[0];
    private float[] weights = new float[0];

    ChainSampler(SamplingParams params) {
        if (params.isGreedy()) {
            throw new IllegalArgumentException("temperature 0 is greedy; use Sampler.of");
        }
        this.invTemperature = 1f / params.temperature(); // may be +inf for subnormal temperatures
        this.topK = params.topK();
        this.topP = params.topP();
        this.minP = params.minP();
        this.penalty = new RepetitionPenalty(params.repetitionPenalty(), params.repetitionLastN());
        this.random = new SplittableRandom(params.seed());
    }

    @Override
    public int sample(float[] logits, int vocabularySize) {
        return draw(filter(logits, vocabularySize));
    }

    @Override
    public void accept(int tokenId) {
        penalty.accept(tokenId);
    }

    /**
     * Applies the penalty and the filters, leaving the surviving candidates in
     * {@code ids/weights[0, n)} with unnormalized probabilities (the most likely token has weight
     * 1); returns n &gt;= 1. Package-private for tests.
     */
    int filter(float[] logits, int vocabularySize) {
        checkVocabulary(logits, vocabularySize);
        penalty.apply(logits, vocabularySize);

        boolean useTopK = topK > 0 && topK < vocabularySize;
        ensureCapacity(useTopK ? topK : vocabularySize);
        int n = useTopK ? selectTopK(logits, vocabularySize, topK) : collect(logits, vocabularySize);
        boolean sorted = useTopK;
        if (n == 0) {
            throw GreedySampler.noCandidate(vocabularySize);
        }

        float max = weights[0];
        if (!sorted) {
            for (int i = 1; i < n; i++) {
                max = Math.max(max, weights[i]);
            }
        }
        if (max == Float.POSITIVE_INFINITY) {
            return keepLowestInfinite(n);
        }

        // softmax numerators, stabilized by the max logit; z is the full mass for top-p
        double z = 0;
        float invT = invTemperature;
        for (int i = 0; i < n; i++) {
            float d = weights[i] - max;
            float p = d == 0f ? 1f : (float) Math.exp(d * invT); // d == 0 guards 0 * inf
            weights[i] = p;
            z += p;
        }

        if (minP > 0f) { // p / pmax < minP, and pmax's weight is exactly 1
            int kept = 0;
            for (int i = 0; i < n; i++) {
                float w = weights[i];
                if (w >= minP) {
                    ids[kept] = ids[i];
                    weights[kept] = w;
                    kept++;
                }
            }
            n = kept; // >= 1: the max has weight 1 > minP
        }

        if (topP < 1f) {
            n = nucleus(n, topP * z, sorted);
        }
        return n;
    }

    /** Draws one of the n candidates in proportion to its weight (renormalizing implicitly). */
    private int draw(int n) {
        double total = 0;
        for (int i = 0; i < n; i++) {
            total += weights[i];
        }
        double u = random.nextDouble() * total;
        double cumulative = 0;
        int last = ids[0];
        for (int i = 0; i < n; i++) {
            float w = weights[i];
            if (w > 0f) {
                cumulative += w;
                last = ids[i];
                if (cumulative > u) {
                    return ids[i];
                }
            }
        }
        return last; // rounding left u at the very top
    }

    int candidateId(int i) {
        return ids[i];
    }

    float candidateWeight(int i) {
        return weights[i];
    }

    static void checkVocabulary(float[] logits, int vocabularySize) {
        if (vocabularySize < 1 || vocabularySize > logits.length) {
            throw new IllegalArgumentException(
                    "vocabularySize must be in [1, " + logits.length + "], got " + vocabularySize);
        }
    }

    private void ensureCapacity(int size) {
        if (ids.length < size) {
            ids = new int[size];
            weights = new float[size];
        }
    }

    /** All tokens whose logit is a number above negative infinity, in id order. */
    private int collect(float[] logits, int vocabularySize) {
        int n = 0;
        for (int t = 0; t < vocabularySize; t++) {
            float l = logits[t];
            if (l > Float.NEGATIVE_INFINITY) { // false for NaN too
                ids[n] = t;
                weights[n] = l;
                n++;
            }
        }
        return n;
    }

    /**
     * The k highest logits, best first (ties: lowest id first), via a k-element min-heap kept during
     * one pass. Returns fewer than k when fewer tokens have usable logits.
     */
    private int selectTopK(float[] logits, int vocabularySize, int k) {
        int n = 0;
        int t = 0;
        for (; t < vocabularySize && n < k; t++) {
            float l = logits[t];
            if (l > Float.NEGATIVE_INFINITY) {
                ids[n] = t;
                weights[n] = l;
                n++;
            }
        }
        for (int i = n / 2 - 1; i >= 0; i--) {
            siftDown(i, n);
        }
        if (n == k) {
            float floor = weights[0];
            for (; t < vocabularySize; t++) {
                float l = logits[t];
                // strict: a later token with an equal logit has a higher id, so it is not better
                if (l > floor) {
                    ids[0] = t;
                    weights[0] = l;
                    siftDown(0, k);
                    floor = weights[0];
                }
            }
        }
        heapSortDescending(n);
        return n;
    }

    /**
     * Top-p: the length of the shortest best-first prefix of the n candidates whose weights sum to at
     * least {@code target} (all n if none does). Unsorted candidates are partially selected, with a
     * prefix that grows fourfold until it covers the target.
     */
    private int nucleus(int n, double target, boolean sorted) {
        int m = sorted ? n : Math.min(n, FIRST_NUCLEUS_GUESS);
        while (true) {
            if (!sorted) {
                selectTop(m, n);
            }
            double cumulative = 0;
            for (int i = 0; i < m; i++) {
                cumulative += weights[i];
                if (cumulative >= target) {
                    return i + 1;
                }
            }
            if (m == n) {
                return n;
            }
            m = (int) Math.min(n, 4L * m);
        }
    }

    /** Rearranges candidates [0, n) so that [0, m) holds the best m, best first. */
    private void selectTop(int m, int n) {
        for (int i = m / 2 - 1; i >= 0; i--) {
            siftDown(i, m);
        }
        for (int j = m; j < n; j++) {
            if (worse(0, j)) {
                swap(0, j);
                siftDown(0, m);
            }
        }
        heapSortDescending(m);
    }

    /** Degenerate softmax with +inf logits: all mass on them; keep the lowest such id. */
    private int keepLowestInfinite(int n) {
        int best = Integer.MAX_VALUE;
        for (int i = 0; i < n; i++) {
            if (weights[i] == Float.POSITIVE_INFINITY && ids[i] < best) {
                best = ids[i];
            }
        }
        ids[0] = best;
        weights[0] = 1f;
        return 1;
    }

    /** Turns a min-heap (worst at the root) over [0, size) into best-first order. */
    private void heapSortDescending(int size) {
        for (int end = size - 1; end > 0; end--) {
            swap(0, end);
            siftDown(0, end);
        }
    }

    /** Min-heap by {@link #worse}: the root is the worst candidate. */
    private void siftDown(int i, int size) {
        while (true) {
            int child = 2 * i + 1;
            if (child >= size) {
                return;
            }
            if (child + 1 < size && worse(child + 1, child)) {
                child++;
            }
            if (!worse(child, i)) {
                return;
            }
            swap(child, i);
            i = child;
        }
    }

    /** Lower weight, or equal weight and higher id. */
    private boolean worse(int a, int b) {
        float wa = weights[a];
        float wb = weights[b];
        return wa < wb || (wa == wb && ids[a] > ids[b]);
    }

    private void swap(int a, int b) {
        int id = ids[a];
        ids[a] = ids[b];
        ids[b] = id;
        float w = weights[a];
        weights[a] = weights[b];
        weights[b] = w;
    }
}
