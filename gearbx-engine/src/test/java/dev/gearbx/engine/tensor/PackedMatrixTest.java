package dev.gearbx.engine.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gearbx.engine.gguf.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class PackedMatrixTest {
    /**
     * Dot tolerance against the double-precision reference (sum of get(r, c) * x[c] in double), relative to
     * sum |w x|: the dequantized weights are exact floats (code * half scale needs at most 18 significant bits), so
     * both float paths differ from it only by float summation/FMA rounding (vector: per-group partial sums, then
     * scale; scalar: one running sum over up to 4096 terms).
     */
    private static final double DOT_REL_TOL = 2e-5;

    private static final int[] ROWS = {1, 3, 17, 64};
    private static final int[] COLS = {32, 96, 256, 4096};

    @Test
    void dotMatchesScalarAndDoubleReferenceForAwkwardShapes() {
        for (PackedFormat f : PackedFormat.values()) {
            for (int g : PackedFormat.GROUP_SIZES) {
                for (int rows : ROWS) {
                    for (int cols : COLS) {
                        if (cols % g != 0) {
                            continue;
                        }
                        WeightMatrix src = TestData.matrix(GgmlType.F32, rows, cols, rows * 1000L + cols + g);
                        PackedMatrix m = PackedMatrix.quantize(f, g, src, Arena.ofAuto());
                        float[] x = TestData.vector(cols + 3, cols * 7L + rows);
                        for (int r = 0; r < rows; r++) {
                            for (int xo : new int[] {0, 3}) {
                                String what = m + " row=" + r + " xOffset=" + xo;
                                double ref = TestData.exactDot(m, r, x, xo);
                                double tol = DOT_REL_TOL * TestData.absSum(m, r, x, xo) + 1e-30;
                                assertEquals(ref, m.dot(r, x, xo), tol, what + " vector");
                                assertEquals(ref, m.dotScalar(r, x, xo), tol, what + " scalar");
                            }
                        }
                        float[] out = new float[rows];
                        Kernels.vector().matvec(m, x, out);
                        for (int r = 0; r < rows; r++) {
                            // interpreted and compiled vector code may add lanes in another order: last-bit tolerance
                            float d = m.dot(r, x, 0);
                            assertEquals(d, out[r], 1e-5f * (1 + Math.abs(d)), m + " matvec row " + r);
                        }
                    }
                }
            }
        }
    }

    /** Per element: |w - deq| <= view scale / 2 for INT8/6/4 and MID; INT2 and LOW: the bounds in their docs. */
    @Test
    void quantizationErrorBounds() {
        for (PackedFormat f : PackedFormat.values()) {
            for (int g : PackedFormat.GROUP_SIZES) {
                for (PackedTestData.Dist d : PackedTestData.Dist.values()) {
                    WeightMatrix src = PackedTestData.f32(17, 256, d, 11 + g);
                    PackedMatrix m = PackedMatrix.quantize(f, g, src, Arena.ofAuto());
                    for (int r = 0; r < m.rows(); r++) {
                        for (int grp = 0; grp < m.cols() / g; grp++) {
                            float s = m.scale(r, grp);
                            float amax = 0;
                            for (int c = grp * g; c < (grp + 1) * g; c++) {
                                amax = Math.max(amax, Math.abs(src.get(r, c)));
                            }
                            double bound = switch (f) {
                                case INT8, INT6, INT4, NESTED_MID -> s / 2;
                                // |w - q8 s'| <= s'/2 and |q8 - 16 high| <= 8 with s' = s / 16
                                case NESTED_LOW -> s / 2 + s / 32;
                                case INT2 -> Math.max(s / 2, amax - s);
                            };
                            bound *= 1 + 1e-6; // the division w / s rounds
                            for (int c = grp * g; c < (grp + 1) * g; c++) {
                                int q = m.code(r, c);
                                assertTrue(Math.abs(q) <= f.maxCode(), m + " code " + q);
                                double err = Math.abs((double) src.get(r, c) - m.get(r, c));
                                assertTrue(err <= bound, m + " " + d + " [" + r + "][" + c + "] err " + err
                                        + " > " + bound);
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void codesAreTheDocumentedRounding() {
        WeightMatrix src = PackedTestData.f32(5, 128, PackedTestData.Dist.GAUSSIAN, 3);
        for (PackedFormat f : new PackedFormat[] {PackedFormat.INT8, PackedFormat.INT6, PackedFormat.INT4}) {
            PackedMatrix m = PackedMatrix.quantize(f, 32, src, Arena.ofAuto());
            for (int r = 0; r < 5; r++) {
                for (int c = 0; c < 128; c++) {
                    float s = m.scale(r, c / 32);
                    float amax = 0;
                    for (int k = c / 32 * 32; k < c / 32 * 32 + 32; k++) {
                        amax = Math.max(amax, Math.abs(src.get(r, k)));
                    }
                    // scale: max/maxCode rounded up to the next half
                    float exact = amax / f.maxCode();
                    assertTrue(s >= exact && Float.floatToFloat16(s) == PackedMatrix.scaleUp(amax, f.maxCode(), r));
                    assertEquals(Math.round(src.get(r, c) / s), m.code(r, c), f + " [" + r + "][" + c + "]");
                }
            }
        }
    }

    @Test
    void copyRowMatchesGet() {
        for (PackedFormat f : PackedFormat.values()) {
            WeightMatrix src = TestData.matrix(GgmlType.F32, 3, 96, 5);
            PackedMatrix m = PackedMatrix.quantize(f, 32, src, Arena.ofAuto());
            float[] dst = new float[99];
            m.copyRow(2, dst, 3);
            for (int c = 0; c < 96; c++) {
                assertEquals(Float.floatToRawIntBits(m.get(2, c)), Float.floatToRawIntBits(dst[3 + c]), f + " " + c);
            }
        }
    }

    @Test
    void quantizesFromF16AndBf16Sources() {
        for (GgmlType t : TestData.TYPES) {
            WeightMatrix src = TestData.matrix(t, 4, 128, 9);
            PackedMatrix m = PackedMatrix.quantize(PackedFormat.INT8, 64, src, Arena.ofAuto());
            for (int c = 0; c < 128; c++) {
                assertEquals(src.get(3, c), m.get(3, c), m.scale(3, c / 64) / 2 * (1 + 1e-6), t + " " + c);
            }
        }
    }

    /** A confined arena quantizes on the caller's thread; the bytes equal the parallel result. */
    @Test
    void parallelAndSequentialQuantizationAgree() {
        WeightMatrix src = TestData.matrix(GgmlType.F32, 300, 256, 77);
        for (PackedFormat f : PackedFormat.values()) {
            PackedMatrix par = PackedMatrix.quantize(f, 64, src, Arena.ofAuto());
            try (Arena confined = Arena.ofConfined()) {
                PackedMatrix seq = PackedMatrix.quantize(f, 64, src, confined);
                assertArrayEquals(par.data().toArray(ValueLayout.JAVA_BYTE), seq.data().toArray(ValueLayout.JAVA_BYTE),
                        f.toString());
            }
        }
    }

    @Test
    void layoutSizesAndIdentity() {
        WeightMatrix src = TestData.matrix(GgmlType.F32, 4, 256, 1);
        long scales = 4 * (256 / 64) * 2;
        long[] codes = {4 * 256, 4 * 192, 4 * 128, 4 * 64, 4 * 128, 4 * 256};
        for (PackedFormat f : PackedFormat.values()) {
            PackedMatrix m = PackedMatrix.quantize(f, 64, src, Arena.ofAuto());
            assertEquals(GgmlType.I8, m.type());
            assertEquals(f, m.format());
            assertEquals(64, m.groupSize());
            assertEquals(scales, m.scaleBytes(), f.toString());
            assertEquals(codes[f.ordinal()], m.codeBytes(), f.toString());
            assertEquals(scales + codes[f.ordinal()], m.byteSize(), f.toString());
            assertEquals(f.bytesPerGroup(64) * 4L * 4, m.byteSize(), f.toString());
            assertTrue(m.toString().contains(f.name()), m.toString());
        }
        assertInstanceOf(PackedInt4Matrix.class, PackedMatrix.quantize(PackedFormat.INT4, 32, src, Arena.ofAuto()));
    }

    @Test
    void rejectsRowsThatAreNotWholeGroupsNamingColsAndG() {
        WeightMatrix src = TestData.matrix(GgmlType.F32, 2, 96, 1);
        for (PackedFormat f : PackedFormat.values()) {
            var e = assertThrows(IllegalArgumentException.class, () -> PackedMatrix.quantize(f, 64, src,
                    Arena.ofAuto()));
            assertTrue(e.getMessage().contains("cols=96") && e.getMessage().contains("G=64"), e.getMessage());
            var g = assertThrows(IllegalArgumentException.class, () -> PackedMatrix.quantize(f, 48, src,
                    Arena.ofAuto()));
            assertTrue(g.getMessage().contains("48"), g.getMessage());
        }
    }

    @Test
    void rejectsNonFiniteWeightsNamingTheRow() {
        java.lang.foreign.MemorySegment seg = Arena.ofAuto().allocate(2 * 32 * 4);
        seg.setAtIndex(TestData.LE_FLOAT, 32 + 5, Float.NaN);
        WeightMatrix src = WeightMatrix.of(GgmlType.F32, seg, 2, 32);
        for (PackedFormat f : PackedFormat.values()) {
            var e = assertThrows(IllegalArgumentException.class, () -> PackedMatrix.quantize(f, 32, src,
                    Arena.ofAuto()));
            assertTrue(e.getMessage().contains("row 1"), f + ": " + e.getMessage());
        }
    }

    @Test
    void zeroGroupsQuantizeToZero() {
        WeightMatrix src = WeightMatrix.of(GgmlType.F32, Arena.ofAuto().allocate(3 * 64 * 4), 3, 64);
        float[] x = TestData.vector(64, 1);
        for (PackedFormat f : PackedFormat.values()) {
            PackedMatrix m = PackedMatrix.quantize(f, 32, src, Arena.ofAuto());
            assertEquals(0f, m.dot(1, x, 0));
            assertEquals(0f, m.get(2, 63));
        }
    }

    /** Every code value of every format survives pack/unpack (get and dot use the same codes). */
    @Test
    void allCodesRoundTrip() {
        for (PackedFormat f : PackedFormat.values()) {
            int max = f.maxCode();
            int cols = 256;
            java.lang.foreign.MemorySegment seg = Arena.ofAuto().allocate(cols * 4L);
            // group 0 holds the largest code so the scale is 1/1 .. ; weights are integers times max/maxCode
            for (int c = 0; c < cols; c++) {
                int q = c % 32 == 0 ? max : ((c * 7) % (2 * max + 1)) - max;
                seg.setAtIndex(TestData.LE_FLOAT, c, q);
            }
            WeightMatrix src = WeightMatrix.of(GgmlType.F32, seg, 1, cols);
            if (f == PackedFormat.INT2 || f == PackedFormat.NESTED_LOW) {
                continue; // their scales are not max/maxCode of these integers; covered elsewhere
            }
            PackedMatrix m = PackedMatrix.quantize(f, 32, src, Arena.ofAuto());
            float[] x = new float[cols];
            for (int c = 0; c < cols; c++) {
                assertEquals(src.get(0, c), m.get(0, c), f + " " + c);
                java.util.Arrays.fill(x, 0f);
                x[c] = 1f;
                assertEquals(src.get(0, c), m.dot(0, x, 0), f + " dot " + c);
            }
        }
    }
}
