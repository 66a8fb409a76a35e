package dev.gearbx.engine.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gearbx.engine.gguf.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Q8_0 / Q4_0 matrices: vector dot (float path), int8-activation dotRows, dotScalar and a double-precision reference
 * over the dequantized weights, on awkward shapes.
 *
 * <p>Tolerances: the float paths differ from the exact dot of the dequantized weights only by float summation
 * order and FMA rounding: {@code 1e-5 * Σ|w x|}. The int8-activation path also rounds each x to its block's int8
 * grid ({@code dx = amax_b(|x|) / 127}, error {@code <= dx / 2} per element), so its bound is
 * {@code Σ_b (amax_b / 254) Σ_j |w_bj| + 1e-5 * Σ|w x|} (with 1e-6 relative slack for the float scale).
 */
class QuantizedMatrixTest {
    private static final GgmlType[] TYPES = {GgmlType.Q8_0, GgmlType.Q4_0};
    private static final int[] ROWS = {1, 3, 17, 64, 257};
    private static final int[] COLS = {32, 96, 4096};
    private static final double FLOAT_TOL = 1e-5;

    static MemorySegment quantized(GgmlType type, float[] values) {
        MemorySegment seg = Arena.ofAuto().allocate(type.byteSize(values.length), 64);
        Quantization.quantize(type, values, 0, values.length, seg);
        return seg;
    }

    static float[] randomFloats(int n, long seed, double range) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextDouble(-range, range);
        }
        return v;
    }

    private static WeightMatrix make(GgmlType type, MemorySegment seg, int rows, int cols, boolean int8) {
        return type == GgmlType.Q8_0 ? new Q8_0Matrix(seg, rows, cols, int8) : new Q4_0Matrix(seg, rows, cols, int8);
    }

    @Test
    void dotVariantsAgreeWithReferenceOnAwkwardShapes() {
        long seed = 1;
        for (GgmlType type : TYPES) {
            for (int rows : ROWS) {
                for (int cols : COLS) {
                    MemorySegment seg = quantized(type, randomFloats(rows * cols, seed++, 1));
                    WeightMatrix w = WeightMatrix.of(type, seg, rows, cols);
                    WeightMatrix wFloat = make(type, seg, rows, cols, false);
                    WeightMatrix wInt8 = make(type, seg, rows, cols, true);
                    float[] x = TestData.vector(cols + 5, seed++);
                    float[] outFloat = new float[rows];
                    float[] outInt8 = new float[rows];
                    float[] x0 = java.util.Arrays.copyOf(x, cols);
                    wFloat.dotRows(x0, 0, rows, outFloat);
                    wInt8.dotRows(x0, 0, rows, outInt8);
                    for (int r = 0; r < rows; r++) {
                        String where = type + " " + rows + "x" + cols + " row " + r;
                        double exact = TestData.exactDot(w, r, x, 5);
                        double tol = FLOAT_TOL * TestData.absSum(w, r, x, 5) + 1e-6;
                        assertEquals(exact, w.dotScalar(r, x, 5), tol, where + " dotScalar");
                        assertEquals(exact, w.dot(r, x, 5), tol, where + " dot");
                        double exact0 = TestData.exactDot(w, r, x0, 0);
                        double tol0 = FLOAT_TOL * TestData.absSum(w, r, x0, 0) + 1e-6;
                        assertEquals(exact0, outFloat[r], tol0, where + " dotRows (float)");
                        assertEquals(exact0, outInt8[r], tol0 + int8Bound(w, r, x0), where + " dotRows (int8 x)");
                    }
                }
            }
        }
    }

    @Test
    void multiRowDotRowsMatchesPerRowDotOffTheFourRowGrid() {
        int[] colsList = {32, 64, 96, 160, 1024, 4096};
        long seed = 500;
        for (GgmlType type : TYPES) {
            for (int rows = 1; rows <= 9; rows++) {
                for (int cols : colsList) {
                    MemorySegment seg = quantized(type, randomFloats(rows * cols, seed++, 1));
                    WeightMatrix w = make(type, seg, rows, cols, false);
                    float[] x = TestData.vector(cols, seed++);
                    for (int from = 0; from < rows; from++) {
                        for (int to = from; to <= rows; to++) {
                            float[] out = new float[rows];
                            java.util.Arrays.fill(out, Float.NaN);
                            w.dotRows(x, from, to, out);
                            for (int r = 0; r < rows; r++) {
                                String where = type + " " + rows + "x" + cols + " [" + from + "," + to + ") row " + r;
                                if (r < from || r >= to) {
                                    assertTrue(Float.isNaN(out[r]), where + " written outside the range");
                                    continue;
                                }
                                double tol = FLOAT_TOL * TestData.absSum(w, r, x, 0) + 1e-6;
                                assertEquals(TestData.exactDot(w, r, x, 0), out[r], tol, where + " vs reference");
                                assertEquals(w.dot(r, x, 0), out[r], 2 * tol, where + " vs dot");
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void q4_0DotRowsHandlesExtremeNibblesAndZeroScales() {
        // all-0 and all-15 nibbles (the -8 offset folded as -8 d sum(x)), plus a zero-scale block
        int rows = 6;
        int cols = 96;
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            int r = i / cols;
            v[i] = r == 0 ? -1f : r == 1 ? (i % 2 == 0 ? 1f : -1f) : r == 2 ? 0f : (float) Math.sin(i) * (r - 2);
        }
        MemorySegment seg = quantized(GgmlType.Q4_0, v);
        WeightMatrix w = make(GgmlType.Q4_0, seg, rows, cols, false);
        float[] x = TestData.vector(cols, 3);
        float[] out = new float[rows];
        w.dotRows(x, 0, rows, out);
        for (int r = 0; r < rows; r++) {
            double tol = FLOAT_TOL * TestData.absSum(w, r, x, 0) + 1e-6;
            assertEquals(TestData.exactDot(w, r, x, 0), out[r], tol, "row " + r);
        }
    }

    /** Σ_b (amax_b / 254) Σ_j |w_bj|, with 1e-6 relative slack: the extra error of int8 activations. */
    private static double int8Bound(WeightMatrix w, int row, float[] x) {
        double bound = 0;
        for (int b = 0; b < w.cols() / 32; b++) {
            double amax = 0;
            double wsum = 0;
            for (int j = 0; j < 32; j++) {
                amax = Math.max(amax, Math.abs(x[b * 32 + j]));
                wsum += Math.abs(w.get(row, b * 32 + j));
            }
            bound += amax / 254 * wsum;
        }
        return bound * (1 + 1e-6);
    }

    @Test
    void int8ActivationsAreCloseOnTypicalData() {
        // not a bound, a sanity check of the typical size: relative to the row norm the error is small
        for (GgmlType type : TYPES) {
            int rows = 64;
            int cols = 4096;
            MemorySegment seg = quantized(type, randomFloats(rows * cols, 99, 0.05));
            WeightMatrix wInt8 = make(type, seg, rows, cols, true);
            float[] x = TestData.vector(cols, 7);
            float[] out = new float[rows];
            wInt8.dotRows(x, 0, rows, out);
            for (int r = 0; r < rows; r++) {
                double abs = TestData.absSum(wInt8, r, x, 0);
                assertEquals(TestData.exactDot(wInt8, r, x, 0), out[r], 0.01 * abs, type + " row " + r);
            }
        }
    }

    @Test
    void matvecThroughKernelsMatchesDotScalar() {
        for (GgmlType type : TYPES) {
            int rows = 300;
            int cols = 1024;
            WeightMatrix w = WeightMatrix.of(type, quantized(type, randomFloats(rows * cols, 3, 1)), rows, cols);
            float[] x = TestData.vector(cols, 4);
            float[] vec = new float[rows];
            float[] sca = new float[rows];
            Kernels.vector().matvec(w, x, vec);
            Kernels.scalar().matvec(w, x, sca);
            for (int r = 0; r < rows; r++) {
                double tol = FLOAT_TOL * TestData.absSum(w, r, x, 0) + 1e-6;
                if (QuantVectors.INT8_DEFAULT) {
                    tol += int8Bound(w, r, x);
                }
                assertEquals(sca[r], vec[r], tol, type + " row " + r);
            }
        }
    }

    @Test
    void copyRowGetAndDotScalarAgree() {
        for (GgmlType type : TYPES) {
            int rows = 5;
            int cols = 96;
            WeightMatrix w = WeightMatrix.of(type, quantized(type, randomFloats(rows * cols, 11, 3)), rows, cols);
            float[] row = new float[cols + 3];
            for (int r = 0; r < rows; r++) {
                w.copyRow(r, row, 3);
                for (int c = 0; c < cols; c++) {
                    assertEquals(w.get(r, c), row[3 + c], type + " [" + r + "][" + c + "]");
                    float[] unit = new float[cols];
                    unit[c] = 1f;
                    assertEquals(w.get(r, c), w.dotScalar(r, unit, 0), 0f, type + " unit dot [" + r + "][" + c + "]");
                }
            }
        }
    }

    @Test
    void ofRejectsColsNotAMultipleOf32NamingThem() {
        for (GgmlType type : TYPES) {
            MemorySegment seg = Arena.ofAuto().allocate(type.byteSize(64));
            var e = assertThrows(IllegalArgumentException.class, () -> WeightMatrix.of(type, seg, 2, 48));
            assertTrue(e.getMessage().contains("cols=48") && e.getMessage().contains(type.name()), e.getMessage());
            var f = assertThrows(IllegalArgumentException.class, () -> make(type, seg, 2, 48, false));
            assertTrue(f.getMessage().contains("cols=48"), f.getMessage());
        }
    }

    @Test
    void ofBuildsTheQuantizedClasses() {
        assertInstanceOf(Q8_0Matrix.class, WeightMatrix.of(GgmlType.Q8_0, Arena.ofAuto().allocate(34), 1, 32));
        assertInstanceOf(Q4_0Matrix.class, WeightMatrix.of(GgmlType.Q4_0, Arena.ofAuto().allocate(18), 1, 32));
        assertTrue(GgmlType.Q8_0.isSupported() && GgmlType.Q4_0.isSupported());
        var e = assertThrows(IllegalArgumentException.class,
                () -> WeightMatrix.of(GgmlType.Q8_0, Arena.ofAuto().allocate(35), 1, 32));
        assertTrue(e.getMessage().contains("34") && e.getMessage().contains("35"), e.getMessage());
    }
}
