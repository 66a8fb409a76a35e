package dev.gearbx.engine.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class GgufRoundTripTest {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @TempDir
    Path tmp;

    static Path models() {
        return Path.of(System.getProperty("gearbx.models", "../shared/models"));
    }

    static Path stories() {
        Path p = models().resolve("stories260K.gguf");
        Assumptions.assumeTrue(Files.isRegularFile(p), "reference model missing: " + p.toAbsolutePath());
        return p;
    }

    private static GgufValue v(GgufValueType t, Object value) {
        return new GgufValue(t, null, value);
    }

    private static GgufValue arr(GgufValueType et, Object value) {
        return new GgufValue(GgufValueType.ARRAY, et, value);
    }

    /** One value of every scalar type, arrays of every element type, nested arrays, unicode and empties. */
    static Map<String, GgufValue> allTypesMetadata() {
        Map<String, GgufValue> m = new LinkedHashMap<>();
        m.put("general.architecture", GgufValue.ofString("llama"));
        m.put("t.uint8", v(GgufValueType.UINT8, 200L));
        m.put("t.int8", v(GgufValueType.INT8, -5L));
        m.put("t.uint16", v(GgufValueType.UINT16, 65000L));
        m.put("t.int16", v(GgufValueType.INT16, -30000L));
        m.put("t.uint32", v(GgufValueType.UINT32, 4_000_000_000L));
        m.put("t.int32", v(GgufValueType.INT32, (long) Integer.MIN_VALUE));
        m.put("t.float32", v(GgufValueType.FLOAT32, -1.5e-7f));
        m.put("t.float32.nan", v(GgufValueType.FLOAT32, Float.NaN));
        m.put("t.bool.true", GgufValue.ofBool(true));
        m.put("t.bool.false", GgufValue.ofBool(false));
        m.put("t.string", GgufValue.ofString("héllo wörld ✓ 日本語 𝄞 ▁<s>"));
        m.put("t.string.empty", GgufValue.ofString(""));
        m.put("t.uint64", v(GgufValueType.UINT64, -1L)); // 2^64-1 keeps its bits
        m.put("t.int64", v(GgufValueType.INT64, Long.MIN_VALUE));
        m.put("t.float64", v(GgufValueType.FLOAT64, Math.PI));
        m.put("", GgufValue.ofString("empty key"));
        m.put("ключ.🔑", GgufValue.ofString("unicode key"));
        m.put("a.uint8", arr(GgufValueType.UINT8, new byte[] {0, 1, (byte) 255}));
        m.put("a.int8", arr(GgufValueType.INT8, new byte[] {-128, 0, 127}));
        m.put("a.uint16", arr(GgufValueType.UINT16, new short[] {0, (short) 65535}));
        m.put("a.int16", arr(GgufValueType.INT16, new short[] {Short.MIN_VALUE, 1, Short.MAX_VALUE}));
        m.put("a.uint32", arr(GgufValueType.UINT32, new int[] {0, -1}));
        m.put("a.int32", arr(GgufValueType.INT32, new int[] {Integer.MIN_VALUE, 0, 42, Integer.MAX_VALUE}));
        m.put("a.float32", arr(GgufValueType.FLOAT32, new float[] {0f, -0f, 1f, Float.MIN_VALUE, Float.MAX_VALUE,
                Float.NEGATIVE_INFINITY, Float.NaN}));
        m.put("a.bool", arr(GgufValueType.BOOL, new boolean[] {true, false, true}));
        m.put("a.string", arr(GgufValueType.STRING, new String[] {"", "a", "ü", "日本", "🦀🦀", "\0nul"}));
        m.put("a.uint64", arr(GgufValueType.UINT64, new long[] {0, -1, Long.MAX_VALUE}));
        m.put("a.int64", arr(GgufValueType.INT64, new long[] {Long.MIN_VALUE, -1, 1}));
        m.put("a.float64", arr(GgufValueType.FLOAT64, new double[] {Double.MIN_VALUE, -0.0, 1e300, Double.NaN}));
        m.put("a.empty.uint8", arr(GgufValueType.UINT8, new byte[0]));
        m.put("a.empty.string", arr(GgufValueType.STRING, new String[0]));
        m.put("a.empty.float64", arr(GgufValueType.FLOAT64, new double[0]));
        m.put("a.empty.array", arr(GgufValueType.ARRAY, new GgufValue[0]));
        m.put("a.array", arr(GgufValueType.ARRAY, new GgufValue[] {
            arr(GgufValueType.INT32, new int[] {1, 2, 3}),
            arr(GgufValueType.STRING, new String[] {"x", "", "ÿ"}),
            arr(GgufValueType.BOOL, new boolean[0]),
            arr(GgufValueType.ARRAY, new GgufValue[] {
                arr(GgufValueType.FLOAT32, new float[] {0.5f}),
                arr(GgufValueType.ARRAY, new GgufValue[] {arr(GgufValueType.UINT64, new long[] {7})})
            })
        }));
        return m;
    }

    record Tensor(String name, GgmlType type, long[] shape, float[] values) {}

    static List<Tensor> allTypesTensors(long seed) {
        Random r = new Random(seed);
        List<Tensor> ts = new ArrayList<>();
        long[][] shapes = {{7}, {5, 3}, {2, 3, 4}, {3, 1, 2, 2}, {0, 4}, {1}, {33, 2}};
        GgmlType[] types = {GgmlType.F32, GgmlType.F16, GgmlType.BF16};
        int k = 0;
        for (GgmlType type : types) {
            for (long[] shape : shapes) {
                long n = 1;
                for (long d : shape) {
                    n *= d;
                }
                float[] v = new float[(int) n];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) r.nextGaussian() * (i % 3 == 0 ? 1e3f : 1f);
                }
                ts.add(new Tensor("blk." + (k++) + "." + type + ".weight" + shape.length, type, shape, v));
            }
        }
        return ts;
    }

    private static short[] expectedHalfBits(GgmlType type, float[] v) {
        short[] s = new short[v.length];
        for (int i = 0; i < v.length; i++) {
            s[i] = type == GgmlType.F16 ? Float.floatToFloat16(v[i]) : GgufWriter.floatToBf16(v[i]);
        }
        return s;
    }

    @ParameterizedTest(name = "version {0}, alignment {1}")
    @CsvSource({"2, 0", "3, 0", "2, 64", "3, 64", "3, 32", "3, 1", "3, 4096"})
    void everyTypeRoundTrips(int version, int alignment) throws Exception {
        Map<String, GgufValue> meta = allTypesMetadata();
        if (alignment != 0) {
            meta.put("general.alignment", GgufValue.ofUint32(alignment));
        }
        List<Tensor> ts = allTypesTensors(version * 31L + alignment);
        GgufWriter w = new GgufWriter().version(version);
        meta.forEach(w::put);
        for (Tensor t : ts) {
            w.tensor(t.name, t.type, t.shape, t.values);
        }
        // a raw quantized tensor too: two Q8_0 blocks
        byte[] q8 = new byte[2 * GgmlType.Q8_0.typeSize()];
        new Random(5).nextBytes(q8);
        w.tensor("q8", GgmlType.Q8_0, new long[] {64}, MemorySegment.ofArray(q8));
        Path file = tmp.resolve("all.gguf");
        w.write(file);

        int expectAlign = alignment == 0 ? GgufFile.DEFAULT_ALIGNMENT : alignment;
        try (GgufFile f = GgufFile.open(file)) {
            assertEquals(version, f.version());
            assertEquals(expectAlign, f.alignment());
            assertEquals(new GgufMetadata(meta), f.metadata());
            assertEquals(List.copyOf(meta.keySet()), List.copyOf(f.metadata().keys()), "key order");
            meta.forEach((k, val) -> assertEquals(val, f.metadata().get(k), k));
            assertEquals(0, f.dataOffset() % expectAlign, "data section aligned");
            assertEquals(Files.size(file), f.fileSize());
            assertEquals(ts.size() + 1, f.tensors().size());
            for (int i = 0; i < ts.size(); i++) {
                Tensor t = ts.get(i);
                GgufTensorInfo info = f.tensors().get(i);
                assertEquals(t.name, info.name());
                assertArrayEquals(t.shape, info.shape());
                assertEquals(t.type, info.type());
                assertEquals(0, info.offset() % expectAlign, "offset aligned: " + info);
                MemorySegment data = f.tensorData(info);
                assertEquals((long) t.values.length * (t.type == GgmlType.F32 ? 4 : 2), data.byteSize());
                if (t.type == GgmlType.F32) {
                    assertArrayEquals(t.values, data.toArray(F32), info.toString());
                } else {
                    assertArrayEquals(expectedHalfBits(t.type, t.values), data.toArray(I16), info.toString());
                }
            }
            GgufTensorInfo q = f.tensor("q8");
            assertEquals(GgmlType.Q8_0, q.type());
            assertArrayEquals(q8, f.tensorData(q).toArray(ValueLayout.JAVA_BYTE));
        }
    }

    @Test
    void writerRejectsAlignmentsTheReaderRejects() {
        for (long al : new long[] {0, 3, 1L << 21, 1L << 31}) {
            GgufWriter w = new GgufWriter().put("general.alignment", GgufValue.ofUint32(al))
                    .tensor("t", GgmlType.F32, new long[] {1}, new float[1]);
            Path file = tmp.resolve("bad-align.gguf");
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> w.write(file), "alignment " + al);
            assertTrue(e.getMessage().contains("general.alignment"), e::getMessage);
            assertTrue(Files.notExists(file));
        }
    }

    @Test
    void failedWriteLeavesNoFiles() throws Exception {
        Path file = tmp.resolve("failed.gguf");
        GgufWriter w = new GgufWriter().tensor("t", GgmlType.F32, new long[] {4}, target -> {
            throw new IllegalStateException("callback failed");
        });
        org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, () -> w.write(file));
        try (var files = Files.list(tmp)) {
            assertEquals(List.of(), files.toList());
        }
    }

    @Test
    void zeroTensorsAndZeroMetadata() {
        Path file = tmp.resolve("empty.gguf");
        new GgufWriter().write(file);
        try (GgufFile f = GgufFile.open(file)) {
            assertTrue(f.tensors().isEmpty());
            assertTrue(f.metadata().keys().isEmpty());
            assertEquals(3, f.version());
        }
    }

    @Test
    void storiesRewrittenByWriterIsIdentical() throws Exception {
        Path copy = tmp.resolve("stories-copy.gguf");
        try (GgufFile src = GgufFile.open(stories())) {
            assertEquals(3, src.version());
            assertEquals("llama", src.metadata().getString("general.architecture"));
            assertEquals(512, src.metadata().getStringArray("tokenizer.ggml.tokens").length);
            assertEquals(64, src.metadata().getInt("llama.embedding_length"));
            GgufWriter w = new GgufWriter().version(src.version()).putAll(src.metadata());
            for (GgufTensorInfo t : src.tensors()) {
                w.tensor(t.name(), t.type(), t.shape(), src.tensorData(t));
            }
            w.write(copy);
            try (GgufFile dst = GgufFile.open(copy)) {
                assertEquals(src.metadata(), dst.metadata());
                assertEquals(List.copyOf(src.metadata().keys()), List.copyOf(dst.metadata().keys()));
                assertEquals(src.tensors(), dst.tensors(), "tensor infos, offsets included");
                assertEquals(src.dataOffset(), dst.dataOffset());
                for (GgufTensorInfo t : src.tensors()) {
                    assertEquals(-1L, src.tensorData(t).mismatch(dst.tensorData(dst.tensor(t.name()))), t.name());
                }
                assertEquals(Files.size(stories()), Files.size(copy), "same layout, same size");
            }
        }
    }

    @Test
    void float16EncodingMatchesJdk() {
        Random r = new Random(1);
        float[] v = new float[10_000];
        for (int i = 0; i < v.length; i++) {
            v[i] = switch (i % 4) {
                case 0 -> Float.intBitsToFloat(r.nextInt());
                case 1 -> (float) r.nextGaussian();
                case 2 -> Float.float16ToFloat((short) r.nextInt()); // exactly representable
                default -> (float) r.nextGaussian() * 70000f; // overflows half
            };
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment seg = a.allocate(2L * v.length);
            GgufWriter.encodeFloats(GgmlType.F16, v, seg);
            for (int i = 0; i < v.length; i++) {
                short h = seg.get(I16, 2L * i);
                assertEquals(Float.floatToFloat16(v[i]), h, "value " + v[i]);
                if (i % 4 == 2 && !Float.isNaN(v[i])) {
                    assertEquals(Float.floatToRawIntBits(v[i]), Float.floatToRawIntBits(Float.float16ToFloat(h)),
                            "representable half survives the round trip");
                }
            }
        }
    }

    /** Reference: nearest bf16 by exact comparison in double, ties to even. */
    private static short bf16Reference(float f) {
        int bits = Float.floatToRawIntBits(f);
        int lo = bits & 0xFFFF0000;
        int hi = lo + 0x10000;
        double dl = Math.abs((double) Float.intBitsToFloat(lo) - f);
        float hf = Float.intBitsToFloat(hi);
        double dh = Math.abs((double) hf - f);
        if (dh < dl || (dh == dl && ((lo >>> 16) & 1) == 1)) {
            return (short) (hi >>> 16);
        }
        return (short) (lo >>> 16);
    }

    @Test
    void bf16RoundsToNearestEven() {
        assertEquals((short) 0x3F80, GgufWriter.floatToBf16(1.0f));
        assertEquals((short) 0x3F80, GgufWriter.floatToBf16(Float.intBitsToFloat(0x3F808000)), "tie, kept bit even: down");
        assertEquals((short) 0x3F82, GgufWriter.floatToBf16(Float.intBitsToFloat(0x3F818000)), "tie, kept bit odd: up");
        assertEquals((short) 0x3F81, GgufWriter.floatToBf16(Float.intBitsToFloat(0x3F808001)), "above half: up");
        assertEquals((short) 0x3F80, GgufWriter.floatToBf16(Float.intBitsToFloat(0x3F807FFF)), "below half: down");
        assertEquals((short) 0xBF82, GgufWriter.floatToBf16(Float.intBitsToFloat(0xBF818000)), "negative tie");
        assertEquals((short) 0x7F80, GgufWriter.floatToBf16(Float.POSITIVE_INFINITY));
        assertEquals((short) 0xFF80, GgufWriter.floatToBf16(Float.NEGATIVE_INFINITY));
        assertEquals((short) 0x7F80, GgufWriter.floatToBf16(Float.MAX_VALUE), "rounds to +inf like ggml");
        assertEquals((short) 0x0000, GgufWriter.floatToBf16(0f));
        assertEquals((short) 0x8000, GgufWriter.floatToBf16(-0f));
        assertEquals((short) 0x0001, GgufWriter.floatToBf16(Float.intBitsToFloat(0x00010000)), "subnormal kept");
        Random r = new Random(2);
        for (int i = 0; i < 200_000; i++) {
            float f = Float.intBitsToFloat(r.nextInt());
            if (Float.isNaN(f) || Float.isInfinite(f)) {
                continue;
            }
            if ((Float.floatToRawIntBits(f) & 0x7F800000) == 0x7F000000) {
                continue; // top binade handled by the MAX_VALUE case above
            }
            assertEquals(bf16Reference(f), GgufWriter.floatToBf16(f), () -> "bits " + Integer.toHexString(Float.floatToRawIntBits(f)));
        }
    }

    @Test
    void bf16KeepsNaN() {
        int[] nans = {0x7FC00000, 0x7F800001, 0x7F80FFFF, 0xFF800001, 0x7FFFFFFF, 0xFFC00000, 0x7F810000};
        for (int bits : nans) {
            float f = Float.intBitsToFloat(bits);
            short b = GgufWriter.floatToBf16(f);
            assertTrue(Float.isNaN(Float.intBitsToFloat(b << 16)), () -> "NaN " + Integer.toHexString(bits) + " became " + Integer.toHexString(b & 0xFFFF));
            assertEquals(bits < 0, b < 0, "sign kept");
        }
    }
}
