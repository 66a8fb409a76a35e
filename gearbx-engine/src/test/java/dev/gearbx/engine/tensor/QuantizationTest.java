package dev.gearbx.engine.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gearbx.engine.gguf.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Quantizers (llama.cpp reference rounding) and block decoding.
 *
 * <p>Exact reconstruction bounds, with {@code d} the float scale and {@code dh} its IEEE-half rounding
 * ({@code |dh - d| <= 2^-11 |d|} while d is a normal half):
 *
 * <ul>
 *   <li>Q8_0: {@code q = roundf(x / d)} so {@code |d q - x| <= d / 2}, and {@code |q| <= 127}, hence
 *       {@code |dh q - x| <= amax / 254 + 127 |dh - d| <= amax (1/254 + 2^-11)}.
 *   <li>Q4_0: {@code d = max / -8}, {@code t = x / d} lies in {@code [-8, 8]}; {@code q - 8 = floor(t + 0.5)}
 *       (truncation of a positive number) for {@code t < 7.5}, so the error is {@code <= |d| / 2 = |max| / 16};
 *       {@code t >= 7.5} (x within 1/16 of {@code -max}) clamps to 7, error {@code <= |d| = |max| / 8}. With the
 *       half scale ({@code |q - 8| <= 8}): {@code <= |max| (1/16 + 2^-11)} resp. {@code |max| (1/8 + 2^-11)}.
 * </ul>
 */
class QuantizationTest {
    private static final double HALF_EPS = 0x1p-11;

    private static MemorySegment bytes(int... b) {
        MemorySegment seg = Arena.ofAuto().allocate(b.length);
        for (int i = 0; i < b.length; i++) {
            seg.set(ValueLayout.JAVA_BYTE, i, (byte) b[i]);
        }
        return seg;
    }

    private static float[] decode(GgmlType type, MemorySegment seg, int n) {
        float[] out = new float[n];
        Quantization.dequantize(type, seg, out, 0, n);
        return out;
    }

    private static MemorySegment encode(GgmlType type, float[] v) {
        return QuantizedMatrixTest.quantized(type, v);
    }

    @Test
    void q8_0HandBuiltBlockDecodes() {
        int[] b = new int[34];
        b[0] = 0x00; // d = 0.5 = half 0x3800, little-endian
        b[1] = 0x38;
        int[] q = {-128, -1, 0, 1, 127, 5, -7};
        for (int j = 0; j < q.length; j++) {
            b[2 + j] = q[j];
        }
        float[] v = decode(GgmlType.Q8_0, bytes(b), 32);
        assertArrayEquals(new float[] {-64f, -0.5f, 0f, 0.5f, 63.5f, 2.5f, -3.5f}, Arrays.copyOf(v, 7));
        for (int j = 7; j < 32; j++) {
            assertEquals(0f, v[j]);
        }
    }

    @Test
    void q4_0HandBuiltBlockDecodes() {
        int[] b = new int[18];
        b[0] = 0x00; // d = 0.25 = half 0x3400
        b[1] = 0x34;
        b[2] = 0x9F; // element 0: 15 - 8 = 7; element 16: 9 - 8 = 1
        b[3] = 0x08; // element 1: 0; element 17: 0 - 8 = -8
        for (int j = 2; j < 16; j++) {
            b[2 + j] = 0x88; // zeros
        }
        float[] v = decode(GgmlType.Q4_0, bytes(b), 32);
        assertEquals(1.75f, v[0]);
        assertEquals(0f, v[1]);
        assertEquals(0.25f, v[16]);
        assertEquals(-2f, v[17]);
        for (int j : new int[] {2, 15, 18, 31}) {
            assertEquals(0f, v[j]);
        }
    }

    @Test
    void q8_0RoundsHalvesAwayFromZeroLikeRoundf() {
        float[] x = new float[32];
        x[0] = 127f; // amax 127: d = 1, id = 1
        x[1] = -127f;
        x[2] = 0.5f;
        x[3] = -0.5f;
        x[4] = 1.5f;
        x[5] = 2.5f;
        x[6] = -2.5f; // Math.round would give -2, rint 2/-2; roundf gives +-3
        x[7] = 0.49f;
        MemorySegment s = encode(GgmlType.Q8_0, x);
        assertEquals((short) 0x3C00, s.get(TestData.LE_SHORT, 0));
        int[] expected = {127, -127, 1, -1, 2, 3, -3, 0};
        for (int j = 0; j < expected.length; j++) {
            assertEquals(expected[j], s.get(ValueLayout.JAVA_BYTE, 2 + j), "q[" + j + "]");
        }
    }

    @Test
    void q4_0FollowsGgmlRounding() {
        float[] x = new float[32];
        x[0] = -8f; // max = -8 (first of the largest magnitudes): d = 1, id = 1
        x[1] = 7f; // 15.5 -> 15
        x[2] = 7.6f; // 16.1 -> 16 -> clamped to 15
        x[3] = -0.5f; // 8.0 -> 8
        x[4] = -0.6f; // 7.9 -> 7
        x[5] = 8f; // same magnitude as max, later: max stays -8; 16.5 -> 16 -> 15
        x[16] = 0.4f; // 8.9 -> 8
        x[17] = -7.4f; // 1.1 -> 1
        MemorySegment s = encode(GgmlType.Q4_0, x);
        assertEquals((short) 0x3C00, s.get(TestData.LE_SHORT, 0));
        int[] lo = {0, 15, 15, 8, 7, 15};
        int[] hi = {8, 1, 8, 8, 8, 8};
        for (int j = 0; j < lo.length; j++) {
            int b = s.get(ValueLayout.JAVA_BYTE, 2 + j) & 0xFF;
            assertEquals(lo[j], b & 0x0F, "low nibble " + j);
            assertEquals(hi[j], b >>> 4, "high nibble " + j);
        }
        // a positive max gives a negative d
        float[] y = new float[32];
        y[9] = 4f;
        MemorySegment t = encode(GgmlType.Q4_0, y);
        assertEquals(Float.floatToFloat16(-0.5f), t.get(TestData.LE_SHORT, 0));
        assertEquals(4f, decode(GgmlType.Q4_0, t, 32)[9]);
    }

    @Test
    void zeroBlocksAndNegativeZero() {
        float[] zeros = new float[32];
        float[] negZeros = new float[32];
        Arrays.fill(negZeros, -0f);
        for (float[] x : new float[][] {zeros, negZeros}) {
            MemorySegment q8 = encode(GgmlType.Q8_0, x);
            assertEquals((short) 0, q8.get(TestData.LE_SHORT, 0)); // d = 0 / 127 = +0
            for (int j = 0; j < 32; j++) {
                assertEquals(0, q8.get(ValueLayout.JAVA_BYTE, 2 + j));
            }
            MemorySegment q4 = encode(GgmlType.Q4_0, x);
            assertEquals((short) 0x8000, q4.get(TestData.LE_SHORT, 0)); // d = 0 / -8 = -0, as in ggml
            for (int j = 0; j < 16; j++) {
                assertEquals((byte) 0x88, q4.get(ValueLayout.JAVA_BYTE, 2 + j)); // id = 0: 8.5 -> 8
            }
            for (GgmlType t : new GgmlType[] {GgmlType.Q8_0, GgmlType.Q4_0}) {
                for (float v : decode(t, t == GgmlType.Q8_0 ? q8 : q4, 32)) {
                    assertEquals(0f, Math.abs(v));
                }
            }
        }
        // d = 0 bytes with non-zero quants decode to zeros, in every path
        int[] b = new int[34];
        Arrays.fill(b, 2, 34, 100);
        MemorySegment seg = bytes(b);
        WeightMatrix w = WeightMatrix.of(GgmlType.Q8_0, seg, 1, 32);
        float[] x = new float[32];
        Arrays.fill(x, 1f);
        assertEquals(0f, w.dot(0, x, 0));
        assertEquals(0f, w.dotScalar(0, x, 0));
        assertEquals(0f, Math.abs(w.get(0, 5)));
    }

    @Test
    void reconstructionErrorBounds() {
        // the bounds assume d is a normal half (2^-14 .. 65504): amax in ~[2.1e-3, 8.3e6] for Q8_0, |max| in
        // ~[4.9e-4, 5.2e5] for Q4_0; the 1e5 case has outliers of 3e5 (Q4_0 d = 37500)
        double[] scales = {0.05, 1, 1000, 1e5};
        long seed = 5;
        for (double scale : scales) {
            float[] x = QuantizedMatrixTest.randomFloats(32 * 200, seed++, scale);
            // one large outlier per few blocks, negative and positive
            for (int i = 7; i < x.length; i += 97) {
                x[i] = (float) (i % 2 == 0 ? 3 * scale : -3 * scale);
            }
            float[] q8 = decode(GgmlType.Q8_0, encode(GgmlType.Q8_0, x), x.length);
            float[] q4 = decode(GgmlType.Q4_0, encode(GgmlType.Q4_0, x), x.length);
            for (int b = 0; b < x.length / 32; b++) {
                double amax = 0;
                double max = 0;
                for (int j = 0; j < 32; j++) {
                    double v = x[b * 32 + j];
                    if (amax < Math.abs(v)) {
                        amax = Math.abs(v);
                        max = v;
                    }
                }
                double b8 = amax * (1.0 / 254 + HALF_EPS) * (1 + 1e-6);
                for (int j = 0; j < 32; j++) {
                    int i = b * 32 + j;
                    assertTrue(Math.abs(q8[i] - x[i]) <= b8, "Q8_0 scale " + scale + " element " + i + ": " + x[i]
                            + " -> " + q8[i] + ", bound " + b8);
                    boolean clamped = x[i] / (max / -8) >= 7.5;
                    double b4 = Math.abs(max) * ((clamped ? 1.0 / 8 : 1.0 / 16) + HALF_EPS) * (1 + 1e-6);
                    assertTrue(Math.abs(q4[i] - x[i]) <= b4, "Q4_0 scale " + scale + " element " + i + ": " + x[i]
                            + " -> " + q4[i] + ", bound " + b4);
                }
            }
        }
    }

    @Test
    void scalesBeyondTheHalfRangeBecomeInfinityAsInGgml() {
        float[] x = new float[32];
        x[0] = 1e7f; // d = 1e7 / 127 > 65504
        MemorySegment q8 = encode(GgmlType.Q8_0, x);
        assertEquals((short) 0x7C00, q8.get(TestData.LE_SHORT, 0));
        assertEquals(127, q8.get(ValueLayout.JAVA_BYTE, 2));
    }

    @Test
    void largestElementsSurviveExactlyUpToTheHalfScale() {
        float[] x = QuantizedMatrixTest.randomFloats(32, 3, 1);
        x[4] = -2.75f;
        float[] q8 = decode(GgmlType.Q8_0, encode(GgmlType.Q8_0, x), 32);
        float d8 = Float.float16ToFloat(Float.floatToFloat16(2.75f / 127));
        assertEquals(-127 * d8, q8[4]);
        float[] q4 = decode(GgmlType.Q4_0, encode(GgmlType.Q4_0, x), 32);
        assertEquals(-2.75f, q4[4]); // d = 2.75 / 8 is exact in half; q - 8 = -8
    }

    @Test
    void plainTypesDelegateAndUnsupportedTypesAreNamed() {
        float[] x = {1.5f, -2f, 65504f, 1e-8f};
        for (GgmlType t : new GgmlType[] {GgmlType.F32, GgmlType.F16, GgmlType.BF16}) {
            MemorySegment seg = Arena.ofAuto().allocate(t.byteSize(4));
            Quantization.quantize(t, new float[] {9, 1.5f, -2f, 65504f, 1e-8f}, 1, 4, seg);
            float[] back = decode(t, seg, 4);
            assertEquals(1.5f, back[0]);
            assertEquals(-2f, back[1]);
        }
        for (GgmlType t : new GgmlType[] {GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.I8}) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> Quantization.quantize(t, new float[32], 0, 32, Arena.ofAuto().allocate(t.byteSize(32))));
            assertTrue(e.getMessage().contains(t.name()), e.getMessage());
        }
        var e = assertThrows(IllegalArgumentException.class,
                () -> Quantization.quantize(GgmlType.Q8_0, new float[48], 0, 48, Arena.ofAuto().allocate(51)));
        assertTrue(e.getMessage().contains("48") && e.getMessage().contains("Q8_0"), e.getMessage());
        var f = assertThrows(IllegalArgumentException.class,
                () -> Quantization.quantize(GgmlType.Q8_0, new float[32], 0, 32, Arena.ofAuto().allocate(35)));
        assertTrue(f.getMessage().contains("34") && f.getMessage().contains("35"), f.getMessage());
        assertEquals(x.length, 4);
    }

    @Test
    void offsetAndMultipleBlocksLandInTheirSlots() {
        float[] src = QuantizedMatrixTest.randomFloats(32 * 3 + 7, 21, 2);
        for (GgmlType t : new GgmlType[] {GgmlType.Q8_0, GgmlType.Q4_0}) {
            MemorySegment whole = Arena.ofAuto().allocate(t.byteSize(96));
            Quantization.quantize(t, src, 7, 96, whole);
            for (int b = 0; b < 3; b++) {
                MemorySegment one = Arena.ofAuto().allocate(t.typeSize());
                Quantization.quantize(t, src, 7 + 32 * b, 32, one);
                assertEquals(-1L, one.mismatch(whole.asSlice((long) b * t.typeSize(), t.typeSize())), t + " block " + b);
            }
        }
    }
}
