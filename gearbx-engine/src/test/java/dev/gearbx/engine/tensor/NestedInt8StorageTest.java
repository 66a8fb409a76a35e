package dev.gearbx.engine.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class NestedInt8StorageTest {
    private static NestedInt8Storage storage(int rows, int cols, int g, PackedTestData.Dist d, long seed) {
        return NestedInt8Storage.quantize(g, PackedTestData.f32(rows, cols, d, seed), Arena.ofAuto());
    }

    /** MID dequantizes to exactly round(w / s) * s with s = max|w| / 119 rounded up to a half. */
    @Test
    void midIsExactInt8() {
        for (PackedTestData.Dist d : PackedTestData.Dist.values()) {
            WeightMatrix src = PackedTestData.f32(9, 256, d, 5);
            NestedInt8Storage s = NestedInt8Storage.quantize(32, src, Arena.ofAuto());
            for (int r = 0; r < 9; r++) {
                for (int c = 0; c < 256; c++) {
                    float amax = 0;
                    for (int k = c / 32 * 32; k < c / 32 * 32 + 32; k++) {
                        amax = Math.max(amax, Math.abs(src.get(r, k)));
                    }
                    float scale = Float.float16ToFloat(PackedMatrix.scaleUp(amax, 119, r));
                    int q8 = Math.round(src.get(r, c) / scale);
                    assertTrue(Math.abs(q8) <= 119);
                    assertEquals(q8, s.mid().code(r, c));
                    assertEquals(q8 * scale, s.mid().get(r, c), 0f, d + " [" + r + "][" + c + "]");
                    // LOW: floor((q8 + 8) / 16) times 16 s
                    int high = Math.floorDiv(q8 + 8, 16);
                    assertTrue(high >= -7 && high <= 7);
                    assertEquals(high * 16 * scale, s.low().get(r, c), 0f);
                }
            }
        }
    }

    /**
     * LOW vs a direct 4-bit rounding with the same scale 16 s: floor((q8 + 8) / 16) and round(w / (16 s)) differ by
     * at most one step, for about 1 weight in 32 (when w / s rounds up onto 16k + 8).
     */
    @Test
    void lowIsDirectInt4WithinOneStep() {
        NestedInt8Storage s = storage(64, 1024, 32, PackedTestData.Dist.GAUSSIAN, 8);
        WeightMatrix src = PackedTestData.f32(64, 1024, PackedTestData.Dist.GAUSSIAN, 8);
        long differ = 0;
        long n = 0;
        for (int r = 0; r < 64; r++) {
            for (int c = 0; c < 1024; c++) {
                float scale16 = s.low().scale(r, c / 32);
                int direct = Math.round(src.get(r, c) / scale16);
                int low = s.low().code(r, c);
                assertTrue(Math.abs(direct - low) <= 1, "[" + r + "][" + c + "] " + direct + " vs " + low);
                differ += direct != low ? 1 : 0;
                n++;
            }
        }
        double frac = (double) differ / n;
        System.out.printf("LOW vs round(w/16s): %d of %d differ (%.4f)%n", differ, n, frac);
        assertTrue(frac > 0.01 && frac < 0.05, "fraction " + frac);
    }

    /** Relative Frobenius error: LOW close to a direct INT4 (max/7), MID close to a direct INT8 (max/127). */
    @Test
    void errorsCloseToDirectQuantizations() {
        for (PackedTestData.Dist d : new PackedTestData.Dist[] {PackedTestData.Dist.GAUSSIAN,
            PackedTestData.Dist.STUDENT_T3}) {
            WeightMatrix src = PackedTestData.f32(256, 1024, d, 21);
            NestedInt8Storage s = NestedInt8Storage.quantize(32, src, Arena.ofAuto());
            double low = PackedTestData.relativeError(src, s.low());
            double mid = PackedTestData.relativeError(src, s.mid());
            double int4 = PackedTestData.relativeError(src, PackedMatrix.quantize(PackedFormat.INT4, 32, src,
                    Arena.ofAuto()));
            double int8 = PackedTestData.relativeError(src, PackedMatrix.quantize(PackedFormat.INT8, 32, src,
                    Arena.ofAuto()));
            System.out.printf("%s G=32: LOW %.4f INT4 %.4f MID %.5f INT8 %.5f%n", d, low, int4, mid, int8);
            assertTrue(low < 1.1 * int4, d + " LOW " + low + " INT4 " + int4);
            assertTrue(mid < 1.15 * int8, d + " MID " + mid + " INT8 " + int8);
        }
    }

    /**
     * LOW reads half of MID's weight bytes: its segment is the prefix [scales | high plane], so its kernels cannot
     * reach the residual plane (an access there would be out of bounds), and overwriting the residual plane leaves
     * every LOW result unchanged while MID's change.
     */
    @Test
    void lowReadsHalfOfMidsWeightBytes() {
        int rows = 17;
        int cols = 256;
        NestedInt8Storage s = storage(rows, cols, 64, PackedTestData.Dist.GAUSSIAN, 3);
        long plane = (long) rows * cols / 2;
        long scales = (long) rows * (cols / 64) * 2;
        assertEquals(plane, s.planeBytes());
        assertEquals(scales, s.scaleBytes());
        assertEquals(plane, s.low().codeBytes());
        assertEquals(2 * plane, s.mid().codeBytes());
        assertEquals(scales, s.low().scaleBytes());
        assertEquals(scales, s.mid().scaleBytes());
        assertEquals(scales + plane, s.low().byteSize());
        assertEquals(scales + 2 * plane, s.mid().byteSize());
        assertEquals(s.segment().address(), s.low().data().address());
        assertEquals(s.segment().address(), s.mid().data().address());

        float[] x = TestData.vector(cols, 4);
        float[] lowBefore = new float[rows];
        float[] midBefore = new float[rows];
        for (int r = 0; r < rows; r++) {
            lowBefore[r] = s.low().dot(r, x, 0);
            midBefore[r] = s.mid().dot(r, x, 0);
        }
        MemorySegment residual = s.segment().asSlice(scales + plane);
        SplittableRandom rnd = new SplittableRandom(1);
        for (long i = 0; i < residual.byteSize(); i++) {
            residual.set(ValueLayout.JAVA_BYTE, i, (byte) rnd.nextInt());
        }
        int changed = 0;
        for (int r = 0; r < rows; r++) {
            assertEquals(lowBefore[r], s.low().dot(r, x, 0), 0f);
            assertEquals(lowBefore[r], s.low().dotScalar(r, x, 0), Math.abs(lowBefore[r]) * 1e-4 + 1e-6);
            changed += s.mid().dot(r, x, 0) != midBefore[r] ? 1 : 0;
        }
        assertEquals(rows, changed);
    }

    /** Shifting gear is picking a field: the views are created once, and asking for them allocates nothing. */
    @Test
    void viewsAreSharedAndFree() {
        NestedInt8Storage s = storage(4, 64, 32, PackedTestData.Dist.UNIFORM, 2);
        assertSame(s.low(), s.low());
        assertSame(s.mid(), s.mid());
        assertSame(s.low().data().scope(), s.mid().data().scope());
        assertEquals(PackedFormat.NESTED_LOW, s.low().format());
        assertEquals(PackedFormat.NESTED_MID, s.mid().format());
        var bean = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        Object sink = null;
        for (int i = 0; i < 100_000; i++) {
            sink = (i & 1) == 0 ? s.low() : s.mid();
        }
        long before = bean.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 100_000; i++) {
            sink = (i & 1) == 0 ? s.low() : s.mid();
        }
        long allocated = bean.getCurrentThreadAllocatedBytes() - before;
        assertTrue(allocated < 1024, "allocated " + allocated + " bytes for 100000 view requests");
        assertTrue(sink != null);
    }

    @Test
    void quantizeThroughPackedMatrixGivesTheViews() {
        WeightMatrix src = PackedTestData.f32(3, 128, PackedTestData.Dist.GAUSSIAN, 1);
        PackedMatrix low = PackedMatrix.quantize(PackedFormat.NESTED_LOW, 32, src, Arena.ofAuto());
        PackedMatrix mid = PackedMatrix.quantize(PackedFormat.NESTED_MID, 32, src, Arena.ofAuto());
        NestedInt8Storage s = NestedInt8Storage.quantize(32, src, Arena.ofAuto());
        for (int c = 0; c < 128; c++) {
            assertEquals(s.low().get(2, c), low.get(2, c), 0f);
            assertEquals(s.mid().get(2, c), mid.get(2, c), 0f);
        }
        assertNotEquals(low.byteSize(), mid.byteSize());
    }
}
