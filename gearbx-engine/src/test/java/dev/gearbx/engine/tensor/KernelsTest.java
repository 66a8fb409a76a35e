package dev.gearbx.engine.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gearbx.engine.gguf.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class KernelsTest {
    private static final Kernels SCALAR = Kernels.scalar();
    private static final Kernels VECTOR = Kernels.vector();
    /** Two-thread pool with no size thresholds, so even 1-row matvecs go through the parallel dispatch. */
    private static final ComputePool POOL = new ComputePool(2);
    private static final Kernels FORCED = new VectorKernels(POOL, 0, 0);

    /** Element-wise kernels: vector vs scalar relative tolerance (exp is SVML/vector vs Math.exp; FMA rounding). */
    private static final float ELEM_REL_TOL = 2e-6f;
    /** Reductions (dot, rmsnorm's sum of squares, softmax's sum): relative to the sum of |terms|. */
    private static final double SUM_REL_TOL = 1e-5;

    @AfterAll
    static void closePool() {
        POOL.close();
    }

    private static void assertClose(float expected, float actual, float relTol, String what) {
        float tol = relTol * Math.max(1f, Math.abs(expected));
        assertEquals(expected, actual, tol, what);
    }

    @Test
    void dotMatchesScalar() {
        for (int n : TestData.SIZES) {
            float[] a = TestData.vector(n + 3, n);
            float[] b = TestData.vector(n + 1, n + 100);
            double abs = 0;
            for (int i = 0; i < n; i++) {
                abs += Math.abs((double) a[3 + i] * b[1 + i]);
            }
            assertEquals(SCALAR.dot(a, 3, b, 1, n), VECTOR.dot(a, 3, b, 1, n), SUM_REL_TOL * abs, "n=" + n);
        }
        assertEquals(0f, VECTOR.dot(new float[0], 0, new float[0], 0, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> VECTOR.dot(new float[4], 1, new float[4], 0, 4));
    }

    @Test
    void axpyAddSiluMulMatchScalar() {
        for (int n : TestData.SIZES) {
            float[] x = TestData.vector(n + 2, n);
            float[] y1 = TestData.vector(n + 4, n + 1);
            float[] y2 = y1.clone();
            SCALAR.axpy(y1, 4, 0.37f, x, 2, n);
            VECTOR.axpy(y2, 4, 0.37f, x, 2, n);
            for (int i = 0; i < y1.length; i++) {
                assertClose(y1[i], y2[i], ELEM_REL_TOL, "axpy n=" + n + " i=" + i);
            }
            float[] a1 = TestData.vector(n, n + 2);
            float[] a2 = a1.clone();
            SCALAR.add(a1, x, n);
            VECTOR.add(a2, x, n);
            for (int i = 0; i < n; i++) {
                assertEquals(a1[i], a2[i], "add n=" + n + " i=" + i); // one rounding either way: exact
            }
            float[] g1 = TestData.vector(n, n + 3);
            for (int i = 0; i < n; i++) {
                g1[i] *= 10; // reach the saturated parts of silu
            }
            float[] g2 = g1.clone();
            float[] up = TestData.vector(n, n + 4);
            SCALAR.siluMul(g1, up, n);
            VECTOR.siluMul(g2, up, n);
            for (int i = 0; i < n; i++) {
                assertClose(g1[i], g2[i], ELEM_REL_TOL, "siluMul n=" + n + " i=" + i);
            }
        }
    }

    @Test
    void siluMulFormulaAndExtremes() {
        float[] g = {0f, 1f, -1f, 88f, -88f, 1e4f, -1e4f, 20f};
        float[] up = {1f, 2f, 3f, 1f, 1f, 1f, 1f, 0.5f};
        for (Kernels k : new Kernels[] {SCALAR, VECTOR}) {
            float[] v = g.clone();
            k.siluMul(v, up, v.length);
            for (int i = 0; i < g.length; i++) {
                double expected = g[i] / (1 + Math.exp(-g[i])) * up[i];
                assertEquals(expected, v[i], 1e-6 * Math.max(1, Math.abs(expected)), "g=" + g[i]);
                assertFalse(Float.isNaN(v[i]));
            }
        }
    }

    @Test
    void softmaxMatchesScalarAndSumsToOne() {
        for (int n : TestData.SIZES) {
            float[] x1 = TestData.vector(n + 5, n);
            for (int i = 0; i < x1.length; i++) {
                x1[i] *= 5;
            }
            float[] x2 = x1.clone();
            SCALAR.softmax(x1, 5, n);
            VECTOR.softmax(x2, 5, n);
            double sum = 0;
            for (int i = 0; i < n; i++) {
                assertClose(x1[5 + i], x2[5 + i], 1e-5f, "softmax n=" + n + " i=" + i);
                sum += x2[5 + i];
            }
            assertEquals(1.0, sum, 1e-5, "softmax sum n=" + n);
            for (int i = 0; i < 5; i++) {
                assertEquals(x1[i], x2[i], "outside the range is untouched");
            }
        }
    }

    @Test
    void softmaxIsStableForHugeLogits() {
        for (Kernels k : new Kernels[] {SCALAR, VECTOR}) {
            for (int n : new int[] {3, 17, 100}) {
                float[] x = new float[n];
                for (int i = 0; i < n; i++) {
                    x[i] = i % 2 == 0 ? 1e4f : -1e4f;
                }
                x[n - 1] = 1e4f + 1f;
                k.softmax(x, 0, n);
                double sum = 0;
                for (float v : x) {
                    assertFalse(Float.isNaN(v) || Float.isInfinite(v));
                    sum += v;
                }
                assertEquals(1.0, sum, 1e-5);
                int big = (n + 1) / 2 - (n % 2 == 1 ? 1 : 0); // 1e4 entries apart from the last
                double expectedMax = Math.E / (Math.E + big);
                assertEquals(expectedMax, x[n - 1], 1e-5, "n=" + n);
                assertEquals(0f, x[1]);
            }
        }
    }

    @Test
    void rmsnormMatchesFormulaAndAllowsAliasing() {
        float eps = 1e-5f;
        for (int n : TestData.SIZES) {
            float[] x = TestData.vector(n, n);
            float[] weight = TestData.vector(n, n + 7);
            double ss = 0;
            for (float v : x) {
                ss += (double) v * v;
            }
            double inv = 1 / Math.sqrt(ss / n + eps);
            for (Kernels k : new Kernels[] {SCALAR, VECTOR}) {
                float[] out = new float[n];
                k.rmsnorm(out, x, weight, n, eps);
                float[] alias = x.clone();
                k.rmsnorm(alias, alias, weight, n, eps);
                for (int i = 0; i < n; i++) {
                    double expected = x[i] * inv * weight[i];
                    assertEquals(expected, out[i], 1e-5 * Math.max(1, Math.abs(expected)), k + " n=" + n + " i=" + i);
                    assertEquals(out[i], alias[i], "aliased out==x, n=" + n + " i=" + i);
                }
            }
        }
    }

    @Test
    void ropeMatchesDirectFormula() {
        int pos = 17;
        double base = 10000;
        for (boolean neox : new boolean[] {false, true}) {
            for (int[] geom : new int[][] {{1, 64, 64}, {3, 128, 128}, {2, 80, 32}, {4, 6, 6}, {2, 96, 48}, {1, 34, 34}}) {
                int nHeads = geom[0];
                int headDim = geom[1];
                int rotaryDim = geom[2];
                int half = rotaryDim / 2;
                float[] cos = new float[half];
                float[] sin = new float[half];
                for (int i = 0; i < half; i++) {
                    // theta_i = pos * base^(-2i / rotaryDim)
                    double theta = pos * Math.pow(base, -2.0 * i / rotaryDim);
                    cos[i] = (float) Math.cos(theta);
                    sin[i] = (float) Math.sin(theta);
                }
                float[] v = TestData.vector(nHeads * headDim, headDim * 7L + rotaryDim);
                float[] expected = v.clone();
                for (int h = 0; h < nHeads; h++) {
                    for (int i = 0; i < half; i++) {
                        int i0 = h * headDim + (neox ? i : 2 * i);
                        int i1 = h * headDim + (neox ? i + half : 2 * i + 1);
                        double theta = pos * Math.pow(base, -2.0 * i / rotaryDim);
                        expected[i0] = (float) (v[i0] * Math.cos(theta) - v[i1] * Math.sin(theta));
                        expected[i1] = (float) (v[i0] * Math.sin(theta) + v[i1] * Math.cos(theta));
                    }
                }
                float[] s = v.clone();
                float[] w = v.clone();
                SCALAR.rope(s, nHeads, headDim, rotaryDim, cos, sin, neox);
                VECTOR.rope(w, nHeads, headDim, rotaryDim, cos, sin, neox);
                String what = "neox=" + neox + " heads=" + nHeads + " headDim=" + headDim + " rotaryDim=" + rotaryDim;
                for (int i = 0; i < v.length; i++) {
                    assertEquals(expected[i], s[i], 2e-6f, what + " scalar i=" + i);
                    assertEquals(s[i], w[i], 1e-6f, what + " vector i=" + i);
                    if (i % headDim >= rotaryDim) {
                        assertEquals(v[i], w[i], what + " non-rotary dim " + i + " must not change");
                    }
                }
            }
        }
    }

    @Test
    void ropeRejectsBadGeometry() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> VECTOR.rope(new float[64], 1, 64, 65, new float[40], new float[40], false));
        assertTrue(e.getMessage().contains("65"), e.getMessage());
        var f = assertThrows(IllegalArgumentException.class,
                () -> VECTOR.rope(new float[64], 1, 64, 64, new float[8], new float[32], true));
        assertTrue(f.getMessage().contains("32") && f.getMessage().contains("8"), f.getMessage());
    }

    @Test
    void matvecEqualsRowDotsForAllTypesAndPaths() {
        for (GgmlType type : TestData.TYPES) {
            for (int[] shape : new int[][] {{1, 33}, {2, 7}, {3, 1}, {17, 255}, {64, 64}, {100, 17}, {257, 1000}}) {
                int rows = shape[0];
                int cols = shape[1];
                WeightMatrix w = TestData.matrix(type, rows, cols, rows * 1000L + cols);
                float[] x = TestData.vector(cols, cols + 1);
                float[] ref = new float[rows];
                SCALAR.matvec(w, x, ref);
                for (Kernels k : new Kernels[] {VECTOR, FORCED}) {
                    float[] out = new float[rows];
                    k.matvec(w, x, out);
                    for (int r = 0; r < rows; r++) {
                        String what = type + " " + rows + "x" + cols + " row " + r;
                        double tol = SUM_REL_TOL * TestData.absSum(w, r, x, 0);
                        // Not bit-identical: reduceLanes' order differs between the interpreter and C2 code.
                        assertEquals(w.dot(r, x, 0), out[r], tol, what);
                        assertEquals(ref[r], out[r], tol, what);
                    }
                }
            }
        }
    }

    @Test
    void matvecsEqualsSeparateMatvecs() {
        WeightMatrix q = TestData.matrix(GgmlType.F16, 96, 130, 1);
        WeightMatrix k = TestData.matrix(GgmlType.F16, 32, 130, 2);
        WeightMatrix v = TestData.matrix(GgmlType.BF16, 33, 130, 3);
        WeightMatrix f = TestData.matrix(GgmlType.F32, 1, 130, 4);
        WeightMatrix[] ws = {q, k, v, f};
        float[] x = TestData.vector(130, 5);
        for (Kernels kernels : new Kernels[] {SCALAR, VECTOR, FORCED}) {
            float[][] outs = {new float[96], new float[32], new float[33], new float[1]};
            kernels.matvecs(ws, x, outs);
            for (int m = 0; m < ws.length; m++) {
                for (int r = 0; r < ws[m].rows(); r++) {
                    float expected = kernels == SCALAR ? ws[m].dotScalar(r, x, 0) : ws[m].dot(r, x, 0);
                    double tol = SUM_REL_TOL * TestData.absSum(ws[m], r, x, 0);
                    assertEquals(expected, outs[m][r], tol, kernels + " matrix " + m + " row " + r);
                }
            }
        }
        var e = assertThrows(IllegalArgumentException.class,
                () -> VECTOR.matvecs(ws, x, new float[][] {new float[96]}));
        assertTrue(e.getMessage().contains("4") && e.getMessage().contains("1"), e.getMessage());
    }

    @Test
    void matvecChecksSizes() {
        WeightMatrix w = TestData.matrix(GgmlType.F32, 4, 8, 1);
        var e = assertThrows(IllegalArgumentException.class, () -> VECTOR.matvec(w, new float[7], new float[4]));
        assertTrue(e.getMessage().contains("7") && e.getMessage().contains("8"), e.getMessage());
        var f = assertThrows(IllegalArgumentException.class, () -> SCALAR.matvec(w, new float[8], new float[3]));
        assertTrue(f.getMessage().contains("3") && f.getMessage().contains("4"), f.getMessage());
    }

    /** A confined segment is readable by its owner only: matvec must stay on the calling thread, not fail. */
    @Test
    void matvecOnConfinedSegmentRunsOnCaller() {
        try (Arena arena = Arena.ofConfined()) {
            int rows = 300;
            int cols = 200;
            MemorySegment seg = arena.allocate(GgmlType.F32.byteSize((long) rows * cols));
            for (long i = 0; i < (long) rows * cols; i++) {
                seg.setAtIndex(TestData.LE_FLOAT, i, (i % 13) * 0.5f);
            }
            WeightMatrix w = WeightMatrix.of(GgmlType.F32, seg, rows, cols);
            float[] x = TestData.vector(cols, 9);
            float[] out = new float[rows];
            FORCED.matvec(w, x, out);
            VECTOR.matvec(w, x, out);
            for (int r = 0; r < rows; r++) {
                assertEquals(w.dotScalar(r, x, 0), out[r], SUM_REL_TOL * TestData.absSum(w, r, x, 0));
            }
        }
    }

    /** Several generation streams sharing the pool: every result correct, no deadlock. */
    @Test
    void concurrentMatvecsFromManyThreads() throws Exception {
        WeightMatrix w = TestData.matrix(GgmlType.F16, 512, 300, 11);
        float[] x = TestData.vector(300, 12);
        float[] expected = new float[512];
        double[] tol = new double[512];
        for (int r = 0; r < 512; r++) {
            expected[r] = w.dotScalar(r, x, 0);
            tol[r] = SUM_REL_TOL * TestData.absSum(w, r, x, 0);
        }
        ExecutorService exec = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                futures.add(exec.submit(() -> {
                    float[] out = new float[512];
                    for (int i = 0; i < 300; i++) {
                        (i % 2 == 0 ? FORCED : VECTOR).matvec(w, x, out);
                        for (int r = 0; r < 512; r++) {
                            assertEquals(expected[r], out[r], tol[r]);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(60, java.util.concurrent.TimeUnit.SECONDS);
            }
        } finally {
            exec.shutdownNow();
        }
    }

    @Test
    void preferredHonoursSystemProperty() {
        String old = System.getProperty("gearbx.kernels");
        try {
            System.clearProperty("gearbx.kernels");
            assertSame(VECTOR, Kernels.preferred());
            System.setProperty("gearbx.kernels", "scalar");
            assertSame(SCALAR, Kernels.preferred());
            System.setProperty("gearbx.kernels", "gpu");
            var e = assertThrows(IllegalArgumentException.class, Kernels::preferred);
            assertTrue(e.getMessage().contains("gpu"), e.getMessage());
        } finally {
            if (old == null) {
                System.clearProperty("gearbx.kernels");
            } else {
                System.setProperty("gearbx.kernels", old);
            }
        }
    }
}
