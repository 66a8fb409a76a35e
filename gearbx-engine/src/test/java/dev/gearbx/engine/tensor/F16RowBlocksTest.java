package dev.gearbx.engine.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gearbx.engine.gguf.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The F16 row-block kernels behind {@link Kernels#matvec}: x prepared once, 4/2/1 rows per pass, scalar tails. */
class F16RowBlocksTest {
    private static final Kernels SCALAR = Kernels.scalar();
    private static final ComputePool POOL = new ComputePool(2);
    private static final Kernels FORCED = new VectorKernels(POOL, 0, 0);
    private static final double SUM_REL_TOL = 1e-5;

    @AfterAll
    static void closePool() {
        POOL.close();
    }

    private static WeightMatrix f16(int rows, int cols, long seed, java.util.function.IntUnaryOperator bits) {
        MemorySegment seg = Arena.ofAuto().allocate(2L * rows * cols, 64);
        for (long i = 0; i < (long) rows * cols; i++) {
            seg.setAtIndex(TestData.LE_SHORT, i, (short) bits.applyAsInt((int) i));
        }
        return WeightMatrix.of(GgmlType.F16, seg, rows, cols);
    }

    /** Every row of every kernel path against the scalar reference. */
    private static void assertMatvecMatchesScalar(WeightMatrix w, float[] x, String what) {
        int rows = w.rows();
        float[] ref = new float[rows];
        SCALAR.matvec(w, x, ref);
        for (Kernels k : new Kernels[] {Kernels.vector(), FORCED}) {
            float[] out = new float[rows];
            k.matvec(w, x, out);
            for (int r = 0; r < rows; r++) {
                double tol = SUM_REL_TOL * TestData.absSum(w, r, x, 0);
                assertEquals(ref[r], out[r], tol, what + " row " + r);
            }
        }
        // dotRows on sub-ranges that start and end off the 4-row grid.
        F16Matrix f = (F16Matrix) w;
        F16Matrix.PreparedX p = F16Matrix.prepare(x, w.cols());
        for (int from = 0; from < Math.min(rows, 3); from++) {
            float[] out = new float[rows];
            f.dotRows(p, x, out, from, rows);
            for (int r = from; r < rows; r++) {
                assertEquals(ref[r], out[r], SUM_REL_TOL * TestData.absSum(w, r, x, 0), what + " from " + from + " row " + r);
            }
        }
    }

    @Test
    void rowBlocksWithRowsNotAMultipleOfFourAndOddColumns() {
        SplittableRandom rnd = new SplittableRandom(5);
        for (int rows : new int[] {1, 2, 3, 4, 5, 6, 7, 9, 13}) {
            for (int cols : new int[] {1, 2, 3, 15, 16, 31, 32, 33, 63, 64, 65, 97, 255, 1000, 4097}) {
                WeightMatrix w = f16(rows, cols, 0, i -> Float.floatToFloat16((float) rnd.nextDouble(-1, 1)));
                assertMatvecMatchesScalar(w, TestData.vector(cols, cols), rows + "x" + cols);
            }
        }
    }

    @Test
    void infAndNaNRowsInsideBlocksStayIeee() {
        int rows = 7;
        int cols = 70;
        WeightMatrix w = f16(rows, cols, 0, i -> switch (i) {
            case 1 * 70 + 37 -> 0x7c00; // +Inf in row 1
            case 5 * 70 + 3 -> 0xfe01; // NaN in row 5
            default -> Float.floatToFloat16(0.25f);
        });
        float[] x = new float[cols];
        java.util.Arrays.fill(x, 1f);
        for (Kernels k : new Kernels[] {Kernels.vector(), FORCED}) {
            for (int rep = 0; rep < 2; rep++) {
                float[] out = new float[rows];
                k.matvec(w, x, out);
                for (int r = 0; r < rows; r++) {
                    if (r == 1) {
                        assertEquals(Float.POSITIVE_INFINITY, out[r]);
                    } else if (r == 5) {
                        assertTrue(Float.isNaN(out[r]));
                    } else {
                        assertEquals(17.5f, out[r], "row " + r);
                    }
                }
            }
        }
    }

    @Test
    void subnormalHeavyRowsAreExact() {
        SplittableRandom rnd = new SplittableRandom(9);
        // All subnormal halves (exponent 0, random mantissa and sign), and a mix with normals and signed zeros.
        WeightMatrix sub = f16(9, 161, 0, i -> (rnd.nextBoolean() ? 0x8000 : 0) | rnd.nextInt(1, 0x400));
        WeightMatrix mixed = f16(9, 161, 0, i -> switch (rnd.nextInt(4)) {
            case 0 -> (rnd.nextBoolean() ? 0x8000 : 0) | rnd.nextInt(1, 0x400);
            case 1 -> rnd.nextBoolean() ? 0x8000 : 0;
            default -> Float.floatToFloat16((float) rnd.nextDouble(-2, 2));
        });
        // Sparse subnormals (a few blocks per row): these rows stay on the shift-trick kernels.
        WeightMatrix sparse = f16(7, 4097, 0, i -> i % 1000 == 17
                ? 0x8000 | rnd.nextInt(1, 0x400) : Float.floatToFloat16((float) rnd.nextDouble(-1, 1)));
        for (WeightMatrix w : new WeightMatrix[] {sub, mixed, sparse}) {
            float[] x = TestData.vector(w.cols(), 3);
            assertMatvecMatchesScalar(w, x, "subnormal");
            for (int r = 0; r < w.rows(); r++) {
                assertEquals(w.dotScalar(r, x, 0), w.dot(r, x, 0), SUM_REL_TOL * TestData.absSum(w, r, x, 0));
            }
            // Against double precision too: each product is exact, only the float sums round.
            float[] out = new float[w.rows()];
            FORCED.matvec(w, x, out);
            for (int r = 0; r < w.rows(); r++) {
                assertEquals(TestData.exactDot(w, r, x, 0), out[r], 2 * SUM_REL_TOL * TestData.absSum(w, r, x, 0));
            }
        }
    }

    @Test
    void largeOrNonFiniteXFallsBackToTheUnscaledKernel() {
        int cols = 130;
        SplittableRandom rnd = new SplittableRandom(2);
        WeightMatrix w = f16(6, cols, 0, i -> Float.floatToFloat16((float) rnd.nextDouble(-1, 1)));
        float[] x = TestData.vector(cols, 4);
        assertNotNull(F16Matrix.prepare(x, cols));

        x[77] = 0x1p16f * 0.99999994f; // largest float below 2^16: still scaled, and exact
        assertNotNull(F16Matrix.prepare(x, cols));
        assertMatvecMatchesScalar(w, x, "x just below 2^16");

        for (float big : new float[] {0x1p16f, -1e30f, Float.MAX_VALUE}) {
            x[77] = big;
            assertNull(F16Matrix.prepare(x, cols), "x = " + big);
            assertMatvecMatchesScalar(w, x, "x = " + big);
        }
        x[77] = 1f;
        x[cols - 1] = 7e4f; // the odd last pair's partner would be fine; here the big one is in the last pair
        assertNull(F16Matrix.prepare(x, cols));
        assertMatvecMatchesScalar(w, x, "big last element");

        float[] xOdd = TestData.vector(131, 6);
        WeightMatrix wOdd = f16(5, 131, 0, i -> Float.floatToFloat16((float) rnd.nextDouble(-1, 1)));
        xOdd[130] = 1e6f; // unpaired last column of an odd width
        assertNull(F16Matrix.prepare(xOdd, 131));
        assertMatvecMatchesScalar(wOdd, xOdd, "big unpaired column");

        for (float bad : new float[] {Float.POSITIVE_INFINITY, Float.NaN}) {
            x[cols - 1] = 1f;
            x[5] = bad;
            assertNull(F16Matrix.prepare(x, cols));
            float[] out = new float[6];
            FORCED.matvec(w, x, out);
            float[] ref = new float[6];
            SCALAR.matvec(w, x, ref);
            for (int r = 0; r < 6; r++) {
                assertEquals(Float.isNaN(ref[r]), Float.isNaN(out[r]), "x[5] = " + bad);
                if (!Float.isNaN(ref[r])) {
                    assertEquals(ref[r], out[r]);
                }
            }
        }
    }

    @Test
    void tinyXIsScaledExactly() {
        int cols = 64;
        WeightMatrix w = f16(4, cols, 0, i -> i % 2 == 0 ? 0x3c00 : 0x0001); // 1.0 and the smallest subnormal
        float[] x = new float[cols];
        java.util.Arrays.fill(x, Float.MIN_NORMAL / 8); // subnormal x
        float[] out = new float[4];
        FORCED.matvec(w, x, out);
        float[] ref = new float[4];
        SCALAR.matvec(w, x, ref);
        for (int r = 0; r < 4; r++) {
            assertEquals(ref[r], out[r]);
        }
    }

    @Test
    void matvecsSharesOnePreparedXAcrossWidths() {
        float[] x = TestData.vector(200, 8);
        WeightMatrix a = TestData.matrix(GgmlType.F16, 9, 200, 1);
        WeightMatrix b = TestData.matrix(GgmlType.F16, 6, 131, 2); // narrower: reads a prefix of x
        WeightMatrix c = TestData.matrix(GgmlType.BF16, 5, 200, 3);
        WeightMatrix[] ws = {a, b, c};
        float[][] outs = {new float[9], new float[6], new float[5]};
        FORCED.matvecs(ws, x, outs);
        for (int m = 0; m < ws.length; m++) {
            for (int r = 0; r < ws[m].rows(); r++) {
                assertEquals(ws[m].dotScalar(r, x, 0), outs[m][r], SUM_REL_TOL * TestData.absSum(ws[m], r, x, 0));
            }
        }
    }

    @Test
    void rowAtATimeSwitchGivesTheSameResults() {
        WeightMatrix w = TestData.matrix(GgmlType.F16, 11, 300, 4);
        float[] x = TestData.vector(300, 5);
        float[] blocks = new float[11];
        FORCED.matvec(w, x, blocks);
        boolean old = F16Matrix.rowBlocks;
        F16Matrix.rowBlocks = false;
        try {
            assertNull(F16Matrix.prepare(x, 300));
            float[] rows = new float[11];
            FORCED.matvec(w, x, rows);
            for (int r = 0; r < 11; r++) {
                assertEquals(rows[r], blocks[r], SUM_REL_TOL * TestData.absSum(w, r, x, 0));
            }
        } finally {
            F16Matrix.rowBlocks = old;
        }
    }
}
