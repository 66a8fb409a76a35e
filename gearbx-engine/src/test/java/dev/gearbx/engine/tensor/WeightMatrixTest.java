package dev.gearbx.engine.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gearbx.engine.gguf.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ShortVector;
import org.junit.jupiter.api.Test;

class WeightMatrixTest {
    /**
     * Dot tolerance, the same for F32, F16 and BF16: widening F16/BF16 to float is exact, so vector and scalar differ
     * only in summation order (and FMA rounding): 1e-5 of the sum of |products|.
     */
    private static final double DOT_REL_TOL = 1e-5;

    @Test
    void rejectsUnsupportedTypesNamingThem() {
        MemorySegment seg = Arena.ofAuto().allocate(18);
        for (GgmlType t : new GgmlType[] {GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.I32, GgmlType.F64}) {
            var e = assertThrows(IllegalArgumentException.class, () -> WeightMatrix.of(t, seg, 1, 32));
            assertTrue(e.getMessage().contains(t.name()), e.getMessage());
        }
    }

    @Test
    void rejectsWrongByteSizeNamingBothNumbers() {
        MemorySegment seg = Arena.ofAuto().allocate(100);
        var e = assertThrows(IllegalArgumentException.class, () -> WeightMatrix.of(GgmlType.F16, seg, 3, 17));
        assertTrue(e.getMessage().contains("102") && e.getMessage().contains("100"), e.getMessage());
        var f = assertThrows(IllegalArgumentException.class, () -> WeightMatrix.of(GgmlType.F32, seg, 5, 6));
        assertTrue(f.getMessage().contains("120") && f.getMessage().contains("100"), f.getMessage());
    }

    @Test
    void rejectsNonPositiveDimensions() {
        MemorySegment seg = Arena.ofAuto().allocate(0);
        var e = assertThrows(IllegalArgumentException.class, () -> WeightMatrix.of(GgmlType.F32, seg, 0, 4));
        assertTrue(e.getMessage().contains("rows=0"), e.getMessage());
    }

    @Test
    void accessorsAndLayout() {
        MemorySegment seg = Arena.ofAuto().allocate(2 * 3 * 4);
        for (int i = 0; i < 6; i++) {
            seg.setAtIndex(TestData.LE_FLOAT, i, i * 1.5f);
        }
        WeightMatrix w = WeightMatrix.of(GgmlType.F32, seg, 2, 3);
        assertEquals(2, w.rows());
        assertEquals(3, w.cols());
        assertEquals(GgmlType.F32, w.type());
        assertEquals(24, w.byteSize());
        assertSame(seg, w.data());
        assertEquals(1.5f * 4, w.get(1, 1)); // row-major: [1][1] is element 4
        assertThrows(IndexOutOfBoundsException.class, () -> w.get(2, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> w.get(0, 3));
        assertThrows(IndexOutOfBoundsException.class, () -> w.dot(0, new float[2], 0));
    }

    @Test
    void elementsDecodeLittleEndian() {
        MemorySegment seg = Arena.ofAuto().allocate(4);
        seg.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 0, (byte) 0x00); // F16 1.0 = 0x3c00, BF16 -2.0 = 0xc000
        seg.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 1, (byte) 0x3c);
        seg.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 2, (byte) 0x00);
        seg.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 3, (byte) 0xc0);
        WeightMatrix h = WeightMatrix.of(GgmlType.F16, seg, 1, 2);
        WeightMatrix b = WeightMatrix.of(GgmlType.BF16, seg, 1, 2);
        assertEquals(1.0f, h.get(0, 0));
        assertEquals(-2.0f, b.get(0, 1));
    }

    @Test
    void vectorDotMatchesScalarForAwkwardSizes() {
        for (GgmlType type : TestData.TYPES) {
            for (int cols : TestData.SIZES) {
                int rows = 3;
                WeightMatrix w = TestData.matrix(type, rows, cols, cols * 31L + type.ordinal());
                float[] x = TestData.vector(cols + 5, cols);
                for (int row = 0; row < rows; row++) {
                    for (int xOffset : new int[] {0, 5}) {
                        float vec = w.dot(row, x, xOffset);
                        float ref = w.dotScalar(row, x, xOffset);
                        double tol = DOT_REL_TOL * TestData.absSum(w, row, x, xOffset);
                        String what = type + " cols=" + cols + " row=" + row + " xOffset=" + xOffset;
                        assertEquals(ref, vec, tol, what);
                        assertEquals(TestData.exactDot(w, row, x, xOffset), vec, tol, what + " (vs double)");
                    }
                }
            }
        }
    }

    @Test
    void copyRowMatchesGet() {
        for (GgmlType type : TestData.TYPES) {
            for (int cols : TestData.SIZES) {
                WeightMatrix w = TestData.matrix(type, 2, cols, cols);
                float[] dst = new float[cols + 3];
                w.copyRow(1, dst, 3);
                for (int c = 0; c < cols; c++) {
                    assertEquals(Float.floatToRawIntBits(w.get(1, c)), Float.floatToRawIntBits(dst[3 + c]),
                            type + " cols=" + cols + " c=" + c);
                }
            }
        }
    }

    /** Every half bit pattern through the vector conversion (copyRow) vs Float.float16ToFloat, raw-bit-exact. */
    @Test
    void f16VectorConversionIsBitExactForAll65536Values() {
        MemorySegment seg = Arena.ofAuto().allocate(65536 * 2);
        for (int h = 0; h < 65536; h++) {
            seg.setAtIndex(TestData.LE_SHORT, h, (short) h);
        }
        WeightMatrix w = WeightMatrix.of(GgmlType.F16, seg, 1, 65536);
        float[] out = new float[65536];
        w.copyRow(0, out, 0);
        for (int h = 0; h < 65536; h++) {
            float expected = Float.float16ToFloat((short) h);
            assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(out[h]),
                    "half 0x" + Integer.toHexString(h));
        }
        // The same through HalfVectors.halfToFloat directly.
        if (HalfVectors.available()) {
            short[] bits = new short[65536];
            for (int h = 0; h < 65536; h++) {
                bits[h] = (short) h;
            }
            float[] direct = new float[65536];
            for (int i = 0; i < 65536; i += HalfVectors.L) {
                HalfVectors.halfToFloat(ShortVector.fromArray(HalfVectors.S, bits, i)).intoArray(direct, i);
            }
            for (int h = 0; h < 65536; h++) {
                assertEquals(Float.floatToRawIntBits(Float.float16ToFloat((short) h)),
                        Float.floatToRawIntBits(direct[h]), "half 0x" + Integer.toHexString(h));
            }
        }
    }

    /** The fast F16 dot skips the Inf/NaN fix-up; rows holding Inf/NaN must still give IEEE results. */
    @Test
    void f16DotHandlesInfAndNaNRows() {
        int cols = 100;
        MemorySegment seg = Arena.ofAuto().allocate(4L * cols * 2);
        for (int r = 0; r < 4; r++) {
            for (int c = 0; c < cols; c++) {
                seg.setAtIndex(TestData.LE_SHORT, (long) r * cols + c, Float.floatToFloat16(0.25f));
            }
        }
        seg.setAtIndex(TestData.LE_SHORT, 1L * cols + 37, (short) 0x7c00); // +Inf
        seg.setAtIndex(TestData.LE_SHORT, 2L * cols + 3, (short) 0xfe01); // NaN
        seg.setAtIndex(TestData.LE_SHORT, 3L * cols + 99, (short) 0x7bff); // 65504, largest finite half
        WeightMatrix w = WeightMatrix.of(GgmlType.F16, seg, 4, cols);
        float[] x = new float[cols];
        java.util.Arrays.fill(x, 1f);
        for (int rep = 0; rep < 2; rep++) { // first call scans the row, second uses the cached state
            assertEquals(25f, w.dot(0, x, 0));
            assertEquals(Float.POSITIVE_INFINITY, w.dot(1, x, 0));
            assertTrue(Float.isNaN(w.dot(2, x, 0)));
            assertEquals(65504f + 99 * 0.25f, w.dot(3, x, 0));
        }
    }

    @Test
    void bf16AndF16SpecialValuesInGet() {
        MemorySegment seg = Arena.ofAuto().allocate(8);
        seg.setAtIndex(TestData.LE_SHORT, 0, (short) 0x8000);
        seg.setAtIndex(TestData.LE_SHORT, 1, (short) 0x0001);
        seg.setAtIndex(TestData.LE_SHORT, 2, (short) 0xff80);
        seg.setAtIndex(TestData.LE_SHORT, 3, (short) 0x7fc0);
        WeightMatrix b = WeightMatrix.of(GgmlType.BF16, seg, 1, 4);
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(b.get(0, 0)));
        assertEquals(Float.intBitsToFloat(0x00010000), b.get(0, 1));
        assertEquals(Float.NEGATIVE_INFINITY, b.get(0, 2));
        assertTrue(Float.isNaN(b.get(0, 3)));
        WeightMatrix h = WeightMatrix.of(GgmlType.F16, seg, 1, 4);
        assertEquals(0x1p-24f, h.get(0, 1)); // smallest half subnormal
    }
}
