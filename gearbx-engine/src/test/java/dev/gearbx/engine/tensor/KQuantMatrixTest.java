package dev.gearbx.engine.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gearbx.engine.gguf.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class KQuantMatrixTest {
    private static final GgmlType[] TYPES = {GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K};
    /**
     * Vector dot vs the double-precision dot of the dequantized row: the vector path dequantizes exactly as the
     * reference up to float rounding of (scale * q) products and summation order, so 2e-5 of sum |w x| (cols <= 4096).
     */
    private static final double VECTOR_TOL = 2e-5;
    /** Scalar reference accumulates sequentially in float: error grows with cols, 1e-4 of sum |w x| at 4096. */
    private static final double SCALAR_TOL = 1e-4;

    /** Hand-chosen 6-bit scales and mins: sub-blocks 4-7 all have nonzero top bits. */
    private static final int[] LS = {1, 2, 3, 4, 33, 40, 50, 63};
    private static final int[] LM = {5, 6, 7, 8, 17, 20, 48, 63};
    /** LS and LM packed by hand per the ggml layout. */
    private static final int[] PACKED = {0x81, 0x82, 0xC3, 0xC4, 0x45, 0x46, 0xC7, 0xC8, 0x11, 0x48, 0x02, 0xFF};

    private static MemorySegment bytes(int[] b) {
        MemorySegment seg = Arena.ofAuto().allocate(b.length);
        for (int i = 0; i < b.length; i++) {
            seg.set(ValueLayout.JAVA_BYTE, i, (byte) b[i]);
        }
        return seg;
    }

    private static void putHalf(int[] b, int off, int bits) {
        b[off] = bits & 0xff;
        b[off + 1] = bits >>> 8;
    }

    @Test
    void scalePackingMatchesHandPackedBytes() {
        byte[] block = new byte[12];
        KQuants.packScales(block, 0, LS, LM);
        for (int i = 0; i < 12; i++) {
            assertEquals(PACKED[i], block[i] & 0xff, "byte " + i);
        }
    }

    private static int[] q45Block(boolean five) {
        int[] b = new int[five ? 176 : 144];
        putHalf(b, 0, 0x3C00); // d = 1.0
        putHalf(b, 2, 0x3800); // dmin = 0.5
        System.arraycopy(PACKED, 0, b, 4, 12);
        int qs = five ? 48 : 16;
        for (int g = 0; g < 4; g++) {
            for (int l = 0; l < 32; l++) {
                b[qs + 32 * g + l] = (l * 7 + g * 3) & 0xff;
            }
        }
        if (five) {
            for (int l = 0; l < 32; l++) {
                b[16 + l] = (l * 37) & 0xff;
            }
        }
        return b;
    }

    /** Element i of the hand-built Q4_K (five = false) or Q5_K block, straight from the spec. */
    private static float q45Expected(int[] b, boolean five, int i) {
        int j = i / 32;
        int l = i % 32;
        int g = i / 64;
        int qbyte = b[(five ? 48 : 16) + 32 * g + l];
        int q = (i % 64) < 32 ? qbyte & 15 : qbyte >> 4;
        if (five && ((b[16 + l] >> j) & 1) != 0) {
            q += 16;
        }
        return 1.0f * LS[j] * q - 0.5f * LM[j];
    }

    @Test
    void handBuiltQ4K() {
        int[] b = q45Block(false);
        WeightMatrix w = KQuants.kQuant(GgmlType.Q4_K, bytes(b), 1, 256);
        for (int i = 0; i < 256; i++) {
            assertEquals(q45Expected(b, false, i), w.get(0, i), "element " + i);
        }
        assertEquals(-2.5f, w.get(0, 0)); // sub-block 0: q 0, min 5 * 0.5
        assertEquals(288.5f, w.get(0, 133)); // sub-block 4 (packed top bits): 33 * 9 - 0.5 * 17
        assertEquals(70f, w.get(0, 165)); // sub-block 5, high nibble: 40 * 2 - 0.5 * 20
        checkAllPaths(w);
    }

    @Test
    void handBuiltQ5K() {
        int[] b = q45Block(true);
        WeightMatrix w = KQuants.kQuant(GgmlType.Q5_K, bytes(b), 1, 256);
        for (int i = 0; i < 256; i++) {
            assertEquals(q45Expected(b, true, i), w.get(0, i), "element " + i);
        }
        assertEquals(14.5f, w.get(0, 7)); // qh[7] = 3: bit 0 set, q = 1 + 16, 1 * 17 - 2.5
        assertEquals(816.5f, w.get(0, 133)); // qh[5] = 185: bit 4 set, q = 9 + 16, 33 * 25 - 8.5
        assertEquals(710f, w.get(0, 165)); // bit 5 set, q = 2 + 16, 40 * 18 - 10
        checkAllPaths(w);
    }

    private static final int[] Q6_SCALES = {1, -2, 3, -4, 5, -6, 7, -8, 127, -128, 10, -10, 20, -20, 64, -64};

    @Test
    void handBuiltQ6K() {
        int[] b = new int[210];
        for (int i = 0; i < 128; i++) {
            b[i] = (i * 13) & 0xff;
        }
        for (int i = 0; i < 64; i++) {
            b[128 + i] = (i * 29 + 5) & 0xff;
        }
        for (int i = 0; i < 16; i++) {
            b[192 + i] = Q6_SCALES[i] & 0xff;
        }
        putHalf(b, 208, 0x3400); // d = 0.25
        WeightMatrix w = KQuants.kQuant(GgmlType.Q6_K, bytes(b), 1, 256);
        // spec order: per half n, per l, four outputs l, l + 32, l + 64, l + 96
        float[] expected = new float[256];
        for (int n = 0; n < 2; n++) {
            for (int l = 0; l < 32; l++) {
                int ql0 = b[64 * n + l];
                int ql1 = b[64 * n + 32 + l];
                int qh = b[128 + 32 * n + l];
                int[] q = {
                    (ql0 & 15 | (qh & 3) << 4) - 32,
                    (ql1 & 15 | (qh >> 2 & 3) << 4) - 32,
                    (ql0 >> 4 | (qh >> 4 & 3) << 4) - 32,
                    (ql1 >> 4 | (qh >> 6 & 3) << 4) - 32
                };
                for (int k = 0; k < 4; k++) {
                    int i = 128 * n + 32 * k + l;
                    expected[i] = 0.25f * Q6_SCALES[i / 16] * q[k];
                }
            }
        }
        for (int i = 0; i < 256; i++) {
            assertEquals(expected[i], w.get(0, i), "element " + i);
        }
        assertEquals(-4f, w.get(0, 0)); // ql 0, qh bits 01: q = 16 - 32, scale 1
        assertEquals(-110f, w.get(0, 200)); // high nibble 10, qh bits 00: q = -22, scale 20
        assertEquals(-960f, w.get(0, 150)); // low nibble 14, qh bits 11: q = 30, scale -128
        checkAllPaths(w);
    }

    /** copyRow, dequantize, dot and dotScalar agree with get on every row. */
    private static void checkAllPaths(WeightMatrix w) {
        int cols = w.cols();
        float[] x = TestData.vector(cols, 99);
        float[] row = new float[cols + 3];
        float[] all = new float[w.rows() * cols];
        KQuants.dequantize(w.type(), w.data(), all, 0, all.length);
        for (int r = 0; r < w.rows(); r++) {
            w.copyRow(r, row, 3);
            for (int c = 0; c < cols; c++) {
                assertEquals(w.get(r, c), row[3 + c], "copyRow " + r + "," + c);
                assertEquals(w.get(r, c), all[r * cols + c], "dequantize " + r + "," + c);
            }
            double ref = TestData.exactDot(w, r, x, 0);
            double scale = TestData.absSum(w, r, x, 0) + 1e-30;
            assertEquals(ref, w.dot(r, x, 0), VECTOR_TOL * scale, w + " dot row " + r);
            assertEquals(ref, dot512(w, r, x, 0), VECTOR_TOL * scale, w + " 512-bit dot row " + r);
            assertEquals(ref, w.dotScalar(r, x, 0), SCALAR_TOL * scale, w + " dotScalar row " + r);
        }
    }

    /** The 512-bit kernel (what dotRows runs on AVX-512) for one row; the plain vector dot where it is unavailable. */
    private static float dot512(WeightMatrix w, int r, float[] x, int xOffset) {
        if (!KQuants.V512) {
            return w.dot(r, x, xOffset);
        }
        return switch (w) {
            case Q4KMatrix q -> q.dot512Arranged(r, x, xOffset);
            case Q5KMatrix q -> q.dot512Arranged(r, x, xOffset);
            case Q6KMatrix q -> q.dot512Arranged(r, x, xOffset);
            default -> throw new IllegalArgumentException(w.toString());
        };
    }

    /** Random blocks: random quant and scale bytes, super-block scales replaced by modest random halves. */
    static WeightMatrix randomMatrix(GgmlType type, int rows, int cols, long seed) {
        long n = (long) rows * cols;
        MemorySegment seg = Arena.ofAuto().allocate(type.byteSize(n), 64);
        SplittableRandom rnd = new SplittableRandom(seed);
        for (long i = 0; i < seg.byteSize(); i++) {
            seg.set(ValueLayout.JAVA_BYTE, i, (byte) rnd.nextInt());
        }
        int ts = type.typeSize();
        for (long b = 0; b < n / 256; b++) {
            long off = b * ts;
            if (type == GgmlType.Q6_K) {
                seg.set(TestData.LE_SHORT, off + 208, Float.floatToFloat16((float) rnd.nextDouble(-1e-3, 1e-3)));
            } else {
                seg.set(TestData.LE_SHORT, off, Float.floatToFloat16((float) rnd.nextDouble(1e-4, 1e-2)));
                seg.set(TestData.LE_SHORT, off + 2, Float.floatToFloat16((float) rnd.nextDouble(0, 1e-2)));
            }
        }
        return KQuants.kQuant(type, seg, rows, cols);
    }

    @Test
    void vectorAndScalarDotsMatchDoubleReferenceOnRandomBlocks() {
        long seed = 1;
        for (GgmlType type : TYPES) {
            for (int rows : new int[] {1, 3, 17, 64}) {
                for (int cols : new int[] {256, 512, 4096}) {
                    WeightMatrix w = randomMatrix(type, rows, cols, seed++);
                    float[] x = TestData.vector(cols + 5, seed++);
                    for (int r = 0; r < rows; r++) {
                        double ref = TestData.exactDot(w, r, x, 5);
                        double scale = TestData.absSum(w, r, x, 5);
                        assertEquals(ref, w.dot(r, x, 5), VECTOR_TOL * scale, w + " dot row " + r);
                        assertEquals(ref, dot512(w, r, x, 5), VECTOR_TOL * scale, w + " 512-bit dot row " + r);
                        assertEquals(ref, w.dotScalar(r, x, 5), SCALAR_TOL * scale, w + " dotScalar row " + r);
                    }
                }
            }
        }
    }

    @Test
    void dotRowsAndMatvecEqualPerRowDot() {
        for (GgmlType type : TYPES) {
            WeightMatrix w = randomMatrix(type, 300, 1024, type.id());
            float[] x = TestData.vector(1024, 3);
            float[] out = new float[300];
            w.dotRows(x, 7, 250, out);
            float[] mv = new float[300];
            Kernels.vector().matvec(w, x, mv);
            for (int r = 0; r < 300; r++) {
                float dot = w.dot(r, x, 0);
                assertEquals(r >= 7 && r < 250 ? dot : 0f, out[r], 1e-5f * (float) TestData.absSum(w, r, x, 0),
                        "dotRows row " + r);
                assertEquals(dot, mv[r], 1e-5f * (float) TestData.absSum(w, r, x, 0), "matvec row " + r);
            }
        }
    }

    @Test
    void rejectsBadShapesNamingThem() {
        MemorySegment seg = Arena.ofAuto().allocate(144 * 2);
        var e = assertThrows(IllegalArgumentException.class, () -> KQuants.kQuant(GgmlType.Q4_K, seg, 2, 128));
        assertTrue(e.getMessage().contains("cols=128"), e.getMessage());
        var f = assertThrows(IllegalArgumentException.class, () -> KQuants.kQuant(GgmlType.Q5_K, seg, 2, 256));
        assertTrue(f.getMessage().contains("352") && f.getMessage().contains("288"), f.getMessage());
        var g = assertThrows(IllegalArgumentException.class, () -> KQuants.kQuant(GgmlType.Q8_0, seg, 1, 256));
        assertTrue(g.getMessage().contains("Q8_0"), g.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Q6KMatrix(seg, 1, 300));
        var h = assertThrows(IllegalArgumentException.class,
                () -> KQuants.quantize(GgmlType.Q4_K, new float[256], 0, 256, seg));
        assertTrue(h.getMessage().contains("144"), h.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> KQuants.quantize(GgmlType.Q4_K, new float[300], 0, 300, seg));
    }

    @Test
    void allZeroData() {
        for (GgmlType type : TYPES) {
            // zero bytes decode to zeros
            MemorySegment zeros = Arena.ofAuto().allocate(type.byteSize(512));
            WeightMatrix z = KQuants.kQuant(type, zeros, 1, 512);
            float[] x = TestData.vector(512, 5);
            assertEquals(0f, z.dot(0, x, 0));
            assertEquals(0f, z.dotScalar(0, x, 0));
            // zero floats quantize to blocks that decode to zeros
            MemorySegment q = Arena.ofAuto().allocate(type.byteSize(512));
            KQuants.quantize(type, new float[512], 0, 512, q);
            float[] back = new float[512];
            KQuants.dequantize(type, q, back, 0, 512);
            assertArrayEquals(new float[512], back, type.toString());
            assertEquals(0f, KQuants.kQuant(type, q, 1, 512).dot(0, x, 0));
        }
    }

    private static double relRms(GgmlType type, float[] src) {
        MemorySegment q = Arena.ofAuto().allocate(type.byteSize(src.length));
        KQuants.quantize(type, src, 0, src.length, q);
        float[] back = new float[src.length];
        KQuants.dequantize(type, q, back, 0, src.length);
        double err = 0;
        double sig = 0;
        for (int i = 0; i < src.length; i++) {
            err += (back[i] - src[i]) * (double) (back[i] - src[i]);
            sig += src[i] * (double) src[i];
        }
        return Math.sqrt(err / sig);
    }

    @Test
    void quantizeErrorOnGaussianAndHeavyTailedData() {
        int n = 256 * 256;
        SplittableRandom rnd = new SplittableRandom(11);
        float[] gauss = new float[n];
        float[] heavy = new float[n];
        for (int i = 0; i < n; i++) {
            gauss[i] = (float) (0.02 * rnd.nextGaussian());
            // Student-t with 3 degrees of freedom: occasional large outliers within each block
            double chi = 0;
            for (int k = 0; k < 3; k++) {
                double g = rnd.nextGaussian();
                chi += g * g;
            }
            heavy[i] = (float) (0.02 * rnd.nextGaussian() / Math.sqrt(chi / 3));
        }
        double[] gaussBound = {0.12, 0.06, 0.03};
        double[] heavyBound = {0.16, 0.08, 0.04};
        for (int t = 0; t < TYPES.length; t++) {
            double g = relRms(TYPES[t], gauss);
            double h = relRms(TYPES[t], heavy);
            System.out.printf(Locale.ROOT, "%s quantize rel RMS error: gaussian %.4f, student-t(3) %.4f%n",
                    TYPES[t], g, h);
            assertTrue(g < gaussBound[t], TYPES[t] + " gaussian " + g);
            assertTrue(h < heavyBound[t], TYPES[t] + " heavy-tailed " + h);
        }
    }

    @Test
    void quantizedDotTracksFloatDot() {
        int rows = 8;
        int cols = 2048;
        SplittableRandom rnd = new SplittableRandom(2);
        float[] src = new float[rows * cols];
        for (int i = 0; i < src.length; i++) {
            src[i] = (float) rnd.nextGaussian();
        }
        float[] x = TestData.vector(cols, 4);
        for (GgmlType type : TYPES) {
            MemorySegment q = Arena.ofAuto().allocate(type.byteSize(src.length));
            KQuants.quantize(type, src, 0, src.length, q);
            WeightMatrix w = KQuants.kQuant(type, q, rows, cols);
            for (int r = 0; r < rows; r++) {
                double exact = 0;
                double abs = 0;
                for (int c = 0; c < cols; c++) {
                    exact += (double) src[r * cols + c] * x[c];
                    abs += Math.abs((double) src[r * cols + c] * x[c]);
                }
                // quantization noise is ~uncorrelated: |error| ~ relRms * sqrt(sum (w x)^2) << 0.05 * sum |w x|
                assertEquals(exact, w.dot(r, x, 0), 0.05 * abs, type + " row " + r);
            }
        }
    }
}
