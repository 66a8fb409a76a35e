package dev.gearbx.engine.tensor;

import dev.gearbx.engine.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Objects;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The ggml K-quant formats Q4_K, Q5_K and Q6_K: super-blocks of 256 elements, little-endian, laid out exactly as
 * ggml writes them.
 *
 * <ul>
 *   <li>Q4_K, 144 bytes: {@code d} (half), {@code dmin} (half), 12 bytes of packed 6-bit scales and mins for the 8
 *       sub-blocks of 32, then 128 bytes of 4-bit quants. Element {@code i} of sub-block {@code j = i / 32} is
 *       {@code d * scale[j] * q - dmin * min[j]} with {@code q} in [0, 15]. The 64 elements {@code 64g .. 64g + 63}
 *       share the 32 quant bytes {@code 32g .. 32g + 31}: low nibbles first, then high nibbles.
 *   <li>Q5_K, 176 bytes: as Q4_K with 32 bytes of fifth bits between the scales and the quants: bit {@code j} of
 *       byte {@code l} is the high bit of element {@code 32j + l}, so {@code q} is in [0, 31].
 *   <li>Q6_K, 210 bytes: 128 bytes of low nibbles, 64 bytes of high bit pairs, 16 int8 scales (one per 16
 *       elements) and {@code d} (half) last. Element {@code i} is {@code d * scale[i / 16] * (q - 32)} with {@code q}
 *       in [0, 63]. See {@link #q6Index} for where the bits of an element live.
 * </ul>
 *
 * <p>{@link #kQuant} wraps data in place as a {@link WeightMatrix}; {@link #quantize} writes blocks from floats (a
 * per-sub-block search over a few candidate scales with a least-squares refit; not bit-identical to llama.cpp).
 */
public final class KQuants {
    /** Elements per super-block. */
    public static final int QK = 256;

    static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = F.withLanes(int.class);
    static final int L = F.length();
    /**
     * Bytes of one float vector's lane count, or null when the vector paths are not usable: they need 8 or 16 float
     * lanes (a byte vector of at least 64 bits, and chunks that never straddle a 16-element scale group).
     */
    static final VectorSpecies<Byte> B = (L == 8 || L == 16)
            ? VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8)) : null;

    private KQuants() {}

    /** Whether {@code type} is one of the K-quants handled here. */
    public static boolean isKQuant(GgmlType type) {
        return type == GgmlType.Q4_K || type == GgmlType.Q5_K || type == GgmlType.Q6_K;
    }

    /**
     * Wraps {@code data} (no copy) as a {@code rows x cols} K-quant matrix.
     *
     * @throws IllegalArgumentException if the type is not Q4_K, Q5_K or Q6_K, a dimension is not positive, {@code
     *     cols} is not a multiple of 256, or {@code data.byteSize()} is not {@code type.byteSize(rows * cols)}
     */
    public static WeightMatrix kQuant(GgmlType type, MemorySegment data, int rows, int cols) {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(data, "data");
        if (!isKQuant(type)) {
            throw new IllegalArgumentException("not a K-quant type: " + type + " (supported: Q4_K, Q5_K, Q6_K)");
        }
        if (rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException("matrix dimensions must be positive, got rows=" + rows + " cols=" + cols);
        }
        return switch (type) {
            case Q4_K -> new Q4KMatrix(data, rows, cols);
            case Q5_K -> new Q5KMatrix(data, rows, cols);
            case Q6_K -> new Q6KMatrix(data, rows, cols);
            default -> throw new AssertionError(type);
        };
    }

    /** Checks the shape of a K-quant matrix; returns the super-blocks per row. */
    static int checkShape(GgmlType type, MemorySegment data, int rows, int cols) {
        if (cols % QK != 0) {
            throw new IllegalArgumentException(type + " matrix cols must be a multiple of " + QK + ", got cols=" + cols);
        }
        long expected = type.byteSize((long) rows * cols);
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException("data for a " + rows + "x" + cols + " " + type + " matrix must be "
                    + expected + " bytes, got " + data.byteSize());
        }
        return cols / QK;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Scalar decoding: the reference the tests and the vector paths are checked against.

    static float half(MemorySegment seg, long off) {
        return Float.float16ToFloat(seg.get(LE_SHORT, off));
    }

    static int u8(MemorySegment seg, long off) {
        return seg.get(ValueLayout.JAVA_BYTE, off) & 0xff;
    }

    /** 6-bit scale of sub-block {@code j} (0..7) from the 12 packed bytes at {@code off} (Q4_K, Q5_K). */
    static int scale6(MemorySegment seg, long off, int j) {
        return j < 4 ? u8(seg, off + j) & 63 : (u8(seg, off + j + 4) & 0xf) | (u8(seg, off + j - 4) >>> 6) << 4;
    }

    /** 6-bit min of sub-block {@code j} (0..7) from the 12 packed bytes at {@code off} (Q4_K, Q5_K). */
    static int min6(MemorySegment seg, long off, int j) {
        return j < 4 ? u8(seg, off + j + 4) & 63 : (u8(seg, off + j + 4) >>> 4) | (u8(seg, off + j) >>> 6) << 4;
    }

    /** Element {@code i} (0..255) of the Q4_K block at {@code off}. */
    static float q4kElement(MemorySegment seg, long off, int i) {
        int j = i >>> 5;
        int b = u8(seg, off + 16 + 32 * (i >>> 6) + (i & 31));
        int q = (j & 1) == 0 ? b & 0xf : b >>> 4;
        float d = half(seg, off) * scale6(seg, off + 4, j);
        float m = half(seg, off + 2) * min6(seg, off + 4, j);
        return d * q - m;
    }

    /** Element {@code i} (0..255) of the Q5_K block at {@code off}. */
    static float q5kElement(MemorySegment seg, long off, int i) {
        int j = i >>> 5;
        int b = u8(seg, off + 48 + 32 * (i >>> 6) + (i & 31));
        int q = ((j & 1) == 0 ? b & 0xf : b >>> 4) | ((u8(seg, off + 16 + (i & 31)) >>> j) & 1) << 4;
        float d = half(seg, off) * scale6(seg, off + 4, j);
        float m = half(seg, off + 2) * min6(seg, off + 4, j);
        return d * q - m;
    }

    /**
     * Where the bits of Q6_K element {@code i} live: with {@code n = i / 128}, {@code k = (i % 128) / 32} and {@code
     * l = i % 32}, the low nibble is nibble {@code k / 2} of byte {@code 64n + 32(k % 2) + l}, and the high two bits
     * are bits {@code 2k, 2k+1} of byte {@code 128 + 32n + l}. Returns the low-nibble byte index.
     */
    static int q6Index(int i) {
        return 64 * (i >>> 7) + 32 * ((i >>> 5) & 1) + (i & 31);
    }

    /** Element {@code i} (0..255) of the Q6_K block at {@code off}. */
    static float q6kElement(MemorySegment seg, long off, int i) {
        int k = (i >>> 5) & 3;
        int lo = (u8(seg, off + q6Index(i)) >>> (4 * (k >>> 1))) & 0xf;
        int hi = (u8(seg, off + 128 + 32 * (i >>> 7) + (i & 31)) >>> (2 * k)) & 3;
        int q = (lo | hi << 4) - 32;
        float d = half(seg, off + 208) * seg.get(ValueLayout.JAVA_BYTE, off + 192 + (i >>> 4));
        return d * q;
    }

    /** Decodes the whole block of {@code type} at {@code off} into {@code dst[dstOffset .. dstOffset + 256)}. */
    static void dequantizeBlock(GgmlType type, MemorySegment seg, long off, float[] dst, int dstOffset) {
        switch (type) {
            case Q4_K, Q5_K -> {
                boolean five = type == GgmlType.Q5_K;
                float d = half(seg, off);
                float dmin = half(seg, off + 2);
                long qs = off + (five ? 48 : 16);
                for (int j = 0; j < 8; j++) {
                    float dj = d * scale6(seg, off + 4, j);
                    float mj = dmin * min6(seg, off + 4, j);
                    int shift = 4 * (j & 1);
                    for (int l = 0; l < 32; l++) {
                        int q = (u8(seg, qs + 32 * (j >>> 1) + l) >>> shift) & 0xf;
                        if (five) {
                            q |= ((u8(seg, off + 16 + l) >>> j) & 1) << 4;
                        }
                        dst[dstOffset + 32 * j + l] = dj * q - mj;
                    }
                }
            }
            case Q6_K -> {
                for (int i = 0; i < QK; i++) {
                    dst[dstOffset + i] = q6kElement(seg, off, i);
                }
            }
            default -> throw new IllegalArgumentException("not a K-quant type: " + type);
        }
    }

    /**
     * Decodes {@code count} elements (a multiple of 256) of {@code type} from the start of {@code src} into {@code
     * dst[dstOffset .. dstOffset + count)}.
     */
    public static void dequantize(GgmlType type, MemorySegment src, float[] dst, int dstOffset, int count) {
        checkCount(type, count);
        Objects.checkFromIndexSize(dstOffset, count, dst.length);
        if (src.byteSize() < type.byteSize(count)) {
            throw new IllegalArgumentException(count + " " + type + " elements need " + type.byteSize(count)
                    + " bytes, got " + src.byteSize());
        }
        for (int b = 0; b < count / QK; b++) {
            dequantizeBlock(type, src, (long) b * type.typeSize(), dst, dstOffset + b * QK);
        }
    }

    private static void checkCount(GgmlType type, int count) {
        if (!isKQuant(type)) {
            throw new IllegalArgumentException("not a K-quant type: " + type + " (supported: Q4_K, Q5_K, Q6_K)");
        }
        if (count < 0 || count % QK != 0) {
            throw new IllegalArgumentException("count must be a non-negative multiple of " + QK + ", got " + count);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Quantization.

    /**
     * Quantizes {@code src[srcOffset .. srcOffset + count)} (count a multiple of 256) to {@code type} into {@code
     * dst}, which must be exactly {@code type.byteSize(count)} bytes.
     *
     * @throws IllegalArgumentException for a type other than Q4_K, Q5_K, Q6_K, a bad count or a wrong dst size
     */
    public static void quantize(GgmlType type, float[] src, int srcOffset, int count, MemorySegment dst) {
        Objects.requireNonNull(dst, "dst");
        checkCount(type, count);
        Objects.checkFromIndexSize(srcOffset, count, src.length);
        long expected = type.byteSize(count);
        if (dst.byteSize() != expected) {
            throw new IllegalArgumentException(count + " " + type + " elements take " + expected
                    + " bytes, dst has " + dst.byteSize());
        }
        byte[] block = new byte[type.typeSize()];
        int[] q = new int[QK];
        for (int b = 0; b < count / QK; b++) {
            int from = srcOffset + b * QK;
            java.util.Arrays.fill(block, (byte) 0);
            switch (type) {
                case Q4_K -> quantizeQ45(src, from, block, q, false);
                case Q5_K -> quantizeQ45(src, from, block, q, true);
                case Q6_K -> quantizeQ6(src, from, block, q);
                default -> throw new AssertionError(type);
            }
            MemorySegment.copy(block, 0, dst, ValueLayout.JAVA_BYTE, (long) b * block.length, block.length);
        }
    }

    private static float roundHalf(float v) {
        return Float.float16ToFloat(Float.floatToFloat16(v));
    }

    private static void putHalf(byte[] block, int off, float v) {
        short h = Float.floatToFloat16(v);
        block[off] = (byte) h;
        block[off + 1] = (byte) (h >>> 8);
    }

    /**
     * Best affine fit {@code x ~ a * q - m} (a >= 0, m >= 0, q in [0, nmax]) of {@code x[from .. from + n)}: tries
     * a few grid scales around (max - min) / nmax, refits a and m by least squares for each assignment, and keeps
     * the lowest squared error. Writes {a, m} to {@code out}.
     */
    private static void fitAffine(float[] x, int from, int n, int nmax, float[] out) {
        float lo = Float.POSITIVE_INFINITY;
        float hi = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            lo = Math.min(lo, x[from + i]);
            hi = Math.max(hi, x[from + i]);
        }
        lo = Math.min(lo, 0f); // the min is stored unsigned and subtracted: the offset can only go down
        if (hi <= lo) {
            out[0] = 0f;
            out[1] = -lo;
            return;
        }
        float bestA = (hi - lo) / nmax;
        float bestM = -lo;
        double bestErr = affineError(x, from, n, nmax, bestA, bestM);
        for (int t = -4; t <= 6; t++) {
            float iscale = (nmax + 0.1f * t) / (hi - lo);
            // assign quants on this grid, then refit a, m by least squares over the assignment
            double sq = 0;
            double sx = 0;
            double sqq = 0;
            double sqx = 0;
            for (int i = 0; i < n; i++) {
                float v = x[from + i];
                int q = Math.clamp(Math.round((v - lo) * iscale), 0, nmax);
                sq += q;
                sx += v;
                sqq += (double) q * q;
                sqx += (double) q * v;
            }
            double det = n * sqq - sq * sq;
            if (det <= 0) {
                continue;
            }
            double a = (n * sqx - sq * sx) / det;
            double b = (sx - a * sq) / n; // x ~ a q + b
            if (b > 0) {
                b = 0;
                a = sqx / sqq;
            }
            if (a <= 0) {
                continue;
            }
            double err = affineError(x, from, n, nmax, (float) a, (float) -b);
            if (err < bestErr) {
                bestErr = err;
                bestA = (float) a;
                bestM = (float) -b;
            }
        }
        out[0] = bestA;
        out[1] = bestM;
    }

    private static double affineError(float[] x, int from, int n, int nmax, float a, float m) {
        double err = 0;
        for (int i = 0; i < n; i++) {
            float v = x[from + i];
            int q = a > 0 ? Math.clamp(Math.round((v + m) / a), 0, nmax) : 0;
            double e = (double) a * q - m - v;
            err += e * e;
        }
        return err;
    }

    /** One Q4_K (five = false) or Q5_K block of 256 elements at {@code x[from ..]}. */
    private static void quantizeQ45(float[] x, int from, byte[] block, int[] q, boolean five) {
        int nmax = five ? 31 : 15;
        float[] scales = new float[8];
        float[] mins = new float[8];
        float[] fit = new float[2];
        float maxScale = 0f;
        float maxMin = 0f;
        for (int j = 0; j < 8; j++) {
            fitAffine(x, from + 32 * j, 32, nmax, fit);
            scales[j] = fit[0];
            mins[j] = fit[1];
            maxScale = Math.max(maxScale, fit[0]);
            maxMin = Math.max(maxMin, fit[1]);
        }
        float d = roundHalf(maxScale / 63f);
        float dmin = roundHalf(maxMin / 63f);
        putHalf(block, 0, d);
        putHalf(block, 2, dmin);
        int[] ls = new int[8];
        int[] lm = new int[8];
        for (int j = 0; j < 8; j++) {
            ls[j] = d > 0 ? Math.clamp(Math.round(scales[j] / d), 0, 63) : 0;
            lm[j] = dmin > 0 ? Math.clamp(Math.round(mins[j] / dmin), 0, 63) : 0;
        }
        packScales(block, 4, ls, lm);
        for (int j = 0; j < 8; j++) {
            float a = d * ls[j];
            float m = dmin * lm[j];
            for (int l = 0; l < 32; l++) {
                float v = x[from + 32 * j + l];
                q[32 * j + l] = a > 0 ? Math.clamp(Math.round((v + m) / a), 0, nmax) : 0;
            }
        }
        int qs = five ? 48 : 16;
        for (int g = 0; g < 4; g++) {
            for (int l = 0; l < 32; l++) {
                int q0 = q[64 * g + l];
                int q1 = q[64 * g + 32 + l];
                block[qs + 32 * g + l] = (byte) ((q0 & 0xf) | (q1 & 0xf) << 4);
            }
        }
        if (five) {
            for (int i = 0; i < QK; i++) {
                block[16 + (i & 31)] |= (byte) (((q[i] >>> 4) & 1) << (i >>> 5));
            }
        }
    }

    /**
     * Packs eight 6-bit scales and mins into 12 bytes: sub-blocks 0-3 take the low 6 bits of bytes 0-3 (scales) and
     * 4-7 (mins); sub-blocks 4-7 keep their low nibbles in bytes 8-11 (scale low, min high) and their top two bits
     * in bits 6-7 of bytes 0-3 (scales) and 4-7 (mins).
     */
    static void packScales(byte[] block, int off, int[] ls, int[] lm) {
        for (int j = 0; j < 4; j++) {
            block[off + j] = (byte) (ls[j] & 63 | (ls[j + 4] >>> 4) << 6);
            block[off + j + 4] = (byte) (lm[j] & 63 | (lm[j + 4] >>> 4) << 6);
            block[off + j + 8] = (byte) (ls[j + 4] & 0xf | (lm[j + 4] & 0xf) << 4);
        }
    }

    /** One Q6_K block of 256 elements at {@code x[from ..]}. */
    private static void quantizeQ6(float[] x, int from, byte[] block, int[] q) {
        float[] scales = new float[16];
        float maxAbs = 0f;
        for (int j = 0; j < 16; j++) {
            scales[j] = fitSymmetric(x, from + 16 * j, 16);
            maxAbs = Math.max(maxAbs, Math.abs(scales[j]));
        }
        float d = roundHalf(maxAbs / 127f);
        putHalf(block, 208, d);
        for (int j = 0; j < 16; j++) {
            int s = d > 0 ? Math.clamp(Math.round(scales[j] / d), -127, 127) : 0;
            block[192 + j] = (byte) s;
            float a = d * s;
            for (int l = 0; l < 16; l++) {
                float v = x[from + 16 * j + l];
                q[16 * j + l] = a != 0 ? Math.clamp(Math.round(v / a), -32, 31) : 0;
            }
        }
        for (int i = 0; i < QK; i++) {
            int u = q[i] + 32;
            int k = (i >>> 5) & 3;
            block[q6Index(i)] |= (byte) ((u & 0xf) << (4 * (k >>> 1)));
            block[128 + 32 * (i >>> 7) + (i & 31)] |= (byte) ((u >>> 4) << (2 * k));
        }
    }

    /**
     * Signed scale {@code s} for {@code x ~ s * q}, q in [-32, 31], of {@code x[from .. from + n)}: the element of
     * largest magnitude maps near -32 (the longer side of the range; s takes its sign), a few candidates around it
     * are refit by least squares, and the lowest squared error wins.
     */
    private static float fitSymmetric(float[] x, int from, int n) {
        float amax = 0f;
        float vmax = 0f;
        for (int i = 0; i < n; i++) {
            float v = x[from + i];
            if (Math.abs(v) > amax) {
                amax = Math.abs(v);
                vmax = v;
            }
        }
        if (amax == 0f) {
            return 0f;
        }
        float best = vmax / -32f;
        double bestErr = symmetricError(x, from, n, best);
        for (int t = -4; t <= 6; t++) {
            float iscale = (-32f + 0.25f * t) / vmax; // maps vmax to about -32
            double sqq = 0;
            double sqx = 0;
            for (int i = 0; i < n; i++) {
                float v = x[from + i];
                int q = Math.clamp(Math.round(v * iscale), -32, 31);
                sqq += (double) q * q;
                sqx += (double) q * v;
            }
            if (sqq == 0) {
                continue;
            }
            float s = (float) (sqx / sqq);
            double err = symmetricError(x, from, n, s);
            if (err < bestErr) {
                bestErr = err;
                best = s;
            }
        }
        return best;
    }

    private static double symmetricError(float[] x, int from, int n, float s) {
        double err = 0;
        for (int i = 0; i < n; i++) {
            float v = x[from + i];
            int q = s != 0 ? Math.clamp(Math.round(v / s), -32, 31) : 0;
            double e = (double) s * q - v;
            err += e * e;
        }
        return err;
    }

    // ---------------------------------------------------------------------------------------------------------
    // 512-bit kernels (AVX-512): weights are read as 16 int lanes of 4 bytes; nibbles and bit fields come out with
    // constant shifts and masks, so lane i of nibble k of a 64-byte chunk is a fixed element of the block. x is
    // permuted once per dotRows call into that lane order ("arranged x", XSTRIDE floats per super-block: 256
    // permuted elements, then 16 per-sub-block sums of x for the min / offset term).

    /** Whether the 512-bit kernels are usable: the preferred float shape is 512 bits. */
    static final boolean V512 = FloatVector.SPECIES_PREFERRED.vectorBitSize() == 512;
    static final VectorSpecies<Float> VF = FloatVector.SPECIES_512;
    static final VectorSpecies<Integer> VI = IntVector.SPECIES_512;
    static final VectorSpecies<Byte> VB = ByteVector.SPECIES_128;
    /** Arranged floats per super-block. */
    static final int XSTRIDE = QK + 16;
    /** Lanes 8..15. */
    static final VectorMask<Float> HI8 = VectorMask.fromLong(VF, 0xff00L);

    /** Q4_K / Q5_K: arranged slot {@code 128c + 16k + i} holds element {@code 64(2c + i/8) + 32(k%2) + 4(i%8) + k/2}. */
    static final int[] PERM_Q45 = perm(false);
    /** Q6_K: arranged slot {@code 128c + 16k + i} holds element {@code 128c + 32(2(k%2) + i/8) + 4(i%8) + k/2}. */
    static final int[] PERM_Q6 = perm(true);

    /**
     * Arranged slot {@code 128c + 16k + i} is pre-scaled by {@code 2^-4k} (k < 7): the kernels then mask nibble k in
     * place ({@code v & (15 << 4k)}, exactly {@code q * 2^4k} as a float) instead of shifting it down, which takes the
     * shifts (port 0 only for 512-bit vectors on Intel) off the hot loop. Power-of-two scaling: products are exact.
     */
    static final float[] NIBBLE_SCALE = nibbleScale();

    private static float[] nibbleScale() {
        float[] s = new float[QK];
        for (int t = 0; t < QK; t++) {
            int k = (t >>> 4) & 7;
            s[t] = k == 7 ? 1f : Math.scalb(1f, -4 * k);
        }
        return s;
    }

    private static int[] perm(boolean six) {
        int[] p = new int[QK];
        for (int c = 0; c < 2; c++) {
            for (int k = 0; k < 8; k++) {
                for (int i = 0; i < 16; i++) {
                    p[128 * c + 16 * k + i] = six
                            ? 128 * c + 32 * (2 * (k & 1) + (i >>> 3)) + 4 * (i & 7) + (k >>> 1)
                            : 64 * (2 * c + (i >>> 3)) + 32 * (k & 1) + 4 * (i & 7) + (k >>> 1);
                }
            }
        }
        return p;
    }

    // Q4_K/Q5_K scale decoding in one int vector: the 16 header bytes (d, dmin, 12 scale bytes) sign-extended to
    // 16 lanes, rearranged so that lanes 0-7 become the 6-bit scales and lanes 8-15 the 6-bit mins.
    static final VectorShuffle<Integer> SC_P =
            VectorShuffle.fromValues(VI, 4, 5, 6, 7, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15);
    static final VectorShuffle<Integer> SC_Q =
            VectorShuffle.fromValues(VI, 0, 0, 0, 0, 4, 5, 6, 7, 0, 0, 0, 0, 8, 9, 10, 11);
    static final IntVector SC_SHIFT = IntVector.fromArray(VI, new int[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 4}, 0);
    static final IntVector SC_MASK =
            IntVector.fromArray(VI, new int[] {63, 63, 63, 63, 15, 15, 15, 15, 63, 63, 63, 63, 15, 15, 15, 15}, 0);
    static final IntVector SC_TOP = IntVector.fromArray(VI,
            new int[] {0, 0, 0, 0, 0x30, 0x30, 0x30, 0x30, 0, 0, 0, 0, 0x30, 0x30, 0x30, 0x30}, 0);
    /** Per-lane scale vectors of the four nibble parities of a Q4_K/Q5_K block: lane i takes scale lane s(i). */
    static final VectorShuffle<Float> SE0 = pairs(0, 2);
    static final VectorShuffle<Float> SO0 = pairs(1, 3);
    static final VectorShuffle<Float> SE1 = pairs(4, 6);
    static final VectorShuffle<Float> SO1 = pairs(5, 7);
    /** Int lanes 0-7 twice, 8-15 twice. */
    static final VectorShuffle<Integer> DUP0 = VectorShuffle.fromOp(VI, i -> i & 7);
    static final VectorShuffle<Integer> DUP1 = VectorShuffle.fromOp(VI, i -> 8 + (i & 7));
    /** Shift right by 2 in lanes 8-15 (their bits sit two places higher in the high-bit planes). */
    static final IntVector HI_SHIFT = IntVector.fromArray(VI, new int[] {0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2}, 0);
    /** Q6_K: scale group lanes for the four (chunk, nibble parity) pairs: lane i takes 4q + i / 4. */
    static final VectorShuffle<Float> S6_0 = VectorShuffle.fromOp(VF, i -> i >>> 2);
    static final VectorShuffle<Float> S6_1 = VectorShuffle.fromOp(VF, i -> 4 + (i >>> 2));
    static final VectorShuffle<Float> S6_2 = VectorShuffle.fromOp(VF, i -> 8 + (i >>> 2));
    static final VectorShuffle<Float> S6_3 = VectorShuffle.fromOp(VF, i -> 12 + (i >>> 2));

    private static VectorShuffle<Float> pairs(int lo, int hi) {
        return VectorShuffle.fromOp(VF, i -> i < 8 ? lo : hi);
    }

    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[0]);

    /**
     * Arranges {@code x[xOffset .. xOffset + 256 blocks)} for the 512-bit kernels into a thread-local buffer: per
     * block the permuted elements, then 16 sums. Q4_K/Q5_K ({@code six} false): lanes 0-7 zero, lane 8 + j the sum of
     * sub-block j (32 elements). Q6_K: lane j is -32 times the sum of the 16 elements of scale group j.
     */
    static float[] arrange(float[] x, int xOffset, int blocks, boolean six) {
        float[] xr = SCRATCH.get();
        if (xr.length < blocks * XSTRIDE) {
            xr = new float[blocks * XSTRIDE];
            SCRATCH.set(xr);
        }
        int[] perm = six ? PERM_Q6 : PERM_Q45;
        for (int b = 0; b < blocks; b++) {
            int xo = xOffset + b * QK;
            int ro = b * XSTRIDE;
            for (int t = 0; t < QK; t++) { // a gather with an index map is not intrinsified here (JDK 25)
                xr[ro + t] = x[xo + perm[t]] * NIBBLE_SCALE[t];
            }
            if (six) {
                for (int j = 0; j < 16; j++) {
                    xr[ro + QK + j] = -32f * FloatVector.fromArray(VF, x, xo + 16 * j).reduceLanes(VectorOperators.ADD);
                }
            } else {
                for (int j = 0; j < 8; j++) {
                    xr[ro + QK + j] = 0f;
                    xr[ro + QK + 8 + j] = FloatVector.fromArray(VF, x, xo + 32 * j)
                            .add(FloatVector.fromArray(VF, x, xo + 32 * j + 16)).reduceLanes(VectorOperators.ADD);
                }
            }
        }
        return xr;
    }

    /** {@link #L} bytes at {@code off}, sign-extended to one int per lane (vector paths only). */
    static IntVector bytesToInts(MemorySegment seg, long off) {
        return (IntVector) ByteVector.fromMemorySegment(B, seg, off, LE)
                .convertShape(VectorOperators.B2I, I, 0);
    }

    static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** 6-bit scale {@code j} from the packed scale bytes read as {@code lo} (bytes 0-7) and {@code hi} (8-11). */
    static int scale6(long lo, int hi, int j) {
        return j < 4 ? (int) (lo >>> (8 * j)) & 63
                : (hi >>> (8 * (j - 4))) & 0xf | ((int) (lo >>> (8 * (j - 4) + 6)) & 3) << 4;
    }

    /** 6-bit min {@code j} from the packed scale bytes read as {@code lo} (bytes 0-7) and {@code hi} (8-11). */
    static int min6(long lo, int hi, int j) {
        return j < 4 ? (int) (lo >>> (8 * j + 32)) & 63
                : (hi >>> (8 * (j - 4) + 4)) & 0xf | ((int) (lo >>> (8 * j + 6)) & 3) << 4;
    }
}
