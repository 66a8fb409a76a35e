package dev.gearbx.engine.tensor;

import dev.gearbx.engine.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * Encoding floats into ggml tensor bytes: the single entry point for writing weights (F32, F16, BF16, Q8_0, Q4_0).
 * The block quantizers follow llama.cpp's reference ones ({@code quantize_row_q8_0_ref},
 * {@code quantize_row_q4_0_ref}) bit for bit, rounding included:
 *
 * <ul>
 *   <li>Q8_0: {@code amax = max |x|}, {@code d = amax / 127}, {@code id = d != 0 ? 1 / d : 0}, {@code q =
 *       roundf(x * id)} (half away from zero); {@code d} stored as an IEEE half.
 *   <li>Q4_0: {@code max} = the element of largest magnitude, sign kept (first one on ties), {@code d = max / -8},
 *       {@code id = d != 0 ? 1 / d : 0}, {@code q = min(15, (int) (x * id + 8.5f))} (truncation toward zero); nibbles
 *       {@code j} and {@code j + 16} share byte {@code j} (low, high).
 * </ul>
 *
 * <p>Error bounds per block (with {@code d} rounded to half, relative error {@code <= 2^-11}): Q8_0 reconstructs each
 * element within {@code amax/254 + 127 * |d - d_half| <= amax * (1/254 + 2^-11)}; Q4_0 within
 * {@code |max|/16 + 8 * |d - d_half|} for elements in range, i.e. {@code <= |max| * (1/16 + 2^-11)}. See
 * QuantizationTest for the exact checks.
 */
public final class Quantization {
    private static final ValueLayout.OfFloat LE_FLOAT =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LE_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int QK = 32;

    private Quantization() {}

    /** Whether {@link #quantize} can write {@code type}. */
    public static boolean canQuantize(GgmlType type) {
        return switch (type) {
            case F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K -> true;
            default -> false;
        };
    }

    /**
     * Encodes {@code src[srcOffset .. srcOffset + count)} as {@code type} into {@code dst}.
     *
     * @param count a multiple of the type's block size
     * @param dst exactly {@code type.byteSize(count)} bytes
     * @throws IllegalArgumentException naming the type if it cannot be written, or if {@code count} or {@code dst}'s
     *     size is wrong
     */
    public static void quantize(GgmlType type, float[] src, int srcOffset, int count, MemorySegment dst) {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(src, "src");
        Objects.requireNonNull(dst, "dst");
        if (!canQuantize(type)) {
            throw new IllegalArgumentException("cannot encode floats as " + type
                    + "; supported: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K");
        }
        Objects.checkFromIndexSize(srcOffset, count, src.length);
        if (count % type.blockSize() != 0) {
            throw new IllegalArgumentException("count " + count + " is not a multiple of the " + type
                    + " block size " + type.blockSize());
        }
        long bytes = type.byteSize(count);
        if (dst.byteSize() != bytes) {
            throw new IllegalArgumentException(count + " " + type + " values take " + bytes + " bytes, dst has "
                    + dst.byteSize());
        }
        switch (type) {
            case F32 -> MemorySegment.copy(src, srcOffset, dst, LE_FLOAT, 0, count);
            case F16 -> {
                for (int i = 0; i < count; i++) {
                    dst.set(LE_SHORT, 2L * i, Float.floatToFloat16(src[srcOffset + i]));
                }
            }
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    dst.set(LE_SHORT, 2L * i, floatToBf16(src[srcOffset + i]));
                }
            }
            case Q8_0 -> quantizeQ8_0(src, srcOffset, count, dst);
            case Q4_0 -> quantizeQ4_0(src, srcOffset, count, dst);
            case Q4_K, Q5_K, Q6_K -> KQuants.quantize(type, src, srcOffset, count, dst);
            default -> throw new AssertionError(type);
        }
    }

    /** Decodes {@code count} elements of {@code type} from {@code src} (exactly their byte size) into {@code dst}. */
    public static void dequantize(GgmlType type, MemorySegment src, float[] dst, int dstOffset, int count) {
        if (count == 0) {
            return;
        }
        WeightMatrix.of(type, src, 1, count).copyRow(0, dst, dstOffset);
    }

    /** Rounds a float to bfloat16 (round to nearest even, NaN kept quiet). */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            return (short) ((bits >>> 16) | 0x40);
        }
        // add 0x7FFF plus the lowest kept bit: round half to even
        int rounded = bits + 0x7FFF + ((bits >>> 16) & 1);
        return (short) (rounded >>> 16);
    }

    private static void quantizeQ8_0(float[] src, int srcOffset, int count, MemorySegment dst) {
        for (int b = 0; b < count / QK; b++) {
            int o = srcOffset + b * QK;
            long off = (long) b * Q8_0Matrix.BLOCK_BYTES;
            float amax = 0f;
            for (int j = 0; j < QK; j++) {
                amax = Math.max(amax, Math.abs(src[o + j]));
            }
            float d = amax / 127f;
            float id = d != 0f ? 1f / d : 0f;
            dst.set(LE_SHORT, off, Float.floatToFloat16(d));
            for (int j = 0; j < QK; j++) {
                dst.set(ValueLayout.JAVA_BYTE, off + 2 + j, (byte) roundf(src[o + j] * id));
            }
        }
    }

    private static void quantizeQ4_0(float[] src, int srcOffset, int count, MemorySegment dst) {
        for (int b = 0; b < count / QK; b++) {
            int o = srcOffset + b * QK;
            long off = (long) b * Q4_0Matrix.BLOCK_BYTES;
            float amax = 0f;
            float max = 0f;
            for (int j = 0; j < QK; j++) {
                float v = src[o + j];
                if (amax < Math.abs(v)) {
                    amax = Math.abs(v);
                    max = v;
                }
            }
            float d = max / -8f;
            float id = d != 0f ? 1f / d : 0f;
            dst.set(LE_SHORT, off, Float.floatToFloat16(d));
            for (int j = 0; j < QK / 2; j++) {
                int lo = Math.min(15, (byte) (int) (src[o + j] * id + 8.5f));
                int hi = Math.min(15, (byte) (int) (src[o + QK / 2 + j] * id + 8.5f));
                dst.set(ValueLayout.JAVA_BYTE, off + 2 + j, (byte) (lo | hi << 4));
            }
        }
    }

    /** C's roundf: nearest integer, halves away from zero (exact: the addition is done in double). */
    static int roundf(float v) {
        double a = Math.floor(Math.abs((double) v) + 0.5);
        return (int) Math.copySign(a, v);
    }
}
