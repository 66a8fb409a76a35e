package dev.gearbx.engine.gguf;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded mutation fuzzing of the reader: every mutated file either opens (and then every tensor
 * slice and metadata value can be touched) or fails with a {@link GgufFormatException}. Override
 * with {@code -Dgearbx.fuzz.seed=...} and {@code -Dgearbx.fuzz.iterations=...} (per base file).
 */
class GgufFuzzTest {
    private static final long SEED = Long.getLong("gearbx.fuzz.seed", 0x6765_6172_6278L);
    private static final int ITERATIONS = Integer.getInteger("gearbx.fuzz.iterations", 4000);
    private static final long[] EXTREME_LONGS = {0, -1, 1, 2, 3, 4, 7, 8, 9, 12, 13, 31, 32, 33, 255, 256, 1 << 16,
        1L << 31, (1L << 31) - 1, 1L << 32, 0xFFFF_FFFFL, 1L << 40, 1L << 62, Long.MAX_VALUE, Long.MIN_VALUE,
        GgufReader.MAX_ARRAY_LENGTH, GgufReader.MAX_STRING_BYTES, GgufReader.MAX_STRING_BYTES + 1L};
    private static final int[] EXTREME_INTS = {0, -1, 1, 2, 3, 4, 5, 8, 9, 10, 12, 13, 30, 31, 39, 64, 255,
        Integer.MAX_VALUE, Integer.MIN_VALUE, 1 << 16};

    @TempDir
    Path tmp;

    private record Base(String name, byte[] bytes, int headerEnd) {}

    private Base smallBase() throws IOException {
        Path p = tmp.resolve("base-small.gguf");
        new GgufWriter()
                .put("general.architecture", GgufValue.ofString("llama"))
                .put("u8", new GgufValue(GgufValueType.UINT8, null, 5L))
                .put("i64", new GgufValue(GgufValueType.INT64, null, -9L))
                .put("f64", new GgufValue(GgufValueType.FLOAT64, null, 2.5))
                .put("flag", GgufValue.ofBool(true))
                .put("general.alignment", GgufValue.ofUint32(32))
                .put("toks", GgufValue.ofStrings("<s>", "", "日本"))
                .put("scores", GgufValue.ofFloats(0.5f, -1f))
                .put("bools", new GgufValue(GgufValueType.ARRAY, GgufValueType.BOOL, new boolean[] {true, false}))
                .put("nested", new GgufValue(GgufValueType.ARRAY, GgufValueType.ARRAY, new GgufValue[] {
                    GgufValue.ofInt32s(1, 2), GgufValue.ofStrings("x")}))
                .tensor("a", GgmlType.F32, new long[] {4, 2}, new float[8])
                .tensor("b", GgmlType.F16, new long[] {16}, new float[16])
                .tensor("c", GgmlType.Q8_0, new long[] {32}, MemorySegment.ofArray(new byte[34]))
                .write(p);
        return load("small", p);
    }

    private Base storiesMetadataBase() throws IOException {
        Path p = tmp.resolve("base-stories-meta.gguf");
        try (GgufFile src = GgufFile.open(GgufRoundTripTest.stories())) {
            new GgufWriter().putAll(src.metadata())
                    .tensor("output_norm.weight", GgmlType.F32, new long[] {64}, src.tensorData(src.tensor("output_norm.weight")))
                    .tensor("x", GgmlType.BF16, new long[] {8, 2}, new float[16])
                    .tensor("y", GgmlType.F32, new long[] {1}, new float[] {1})
                    .write(p);
        }
        return load("stories-metadata", p);
    }

    private static Base storiesPrefixBase() throws IOException {
        byte[] b = new byte[16 * 1024];
        int n;
        try (InputStream in = Files.newInputStream(GgufRoundTripTest.stories())) {
            n = in.readNBytes(b, 0, b.length);
        }
        return new Base("stories-first-16KiB", Arrays.copyOf(b, n), n);
    }

    private static Base load(String name, Path p) throws IOException {
        byte[] b = Files.readAllBytes(p);
        try (GgufFile f = GgufFile.open(p)) {
            return new Base(name, b, (int) f.dataOffset());
        } finally {
            Files.delete(p);
        }
    }

    @Test
    void mutatedFilesOpenOrFailWithGgufFormatException() throws IOException {
        Base[] bases = {smallBase(), storiesMetadataBase(), storiesPrefixBase()};
        Path file = tmp.resolve("fuzz.gguf");
        int opened = 0;
        int rejected = 0;
        for (Base base : bases) {
            for (int i = 0; i < ITERATIONS; i++) {
                long seed = SEED + 1_000_003L * i + base.name.hashCode();
                StringBuilder log = new StringBuilder();
                byte[] bytes = mutate(base, new Random(seed), log);
                // a new file each time: on ext4, truncating and rewriting the same file flushes it on close
                Files.deleteIfExists(file);
                Files.write(file, bytes);
                try (GgufFile f = GgufFile.open(file)) {
                    touch(f);
                    opened++;
                } catch (GgufFormatException expected) {
                    rejected++;
                } catch (Throwable t) {
                    throw new AssertionError("base " + base.name + ", iteration " + i + ", seed " + seed
                            + " (-Dgearbx.fuzz.seed=" + SEED + "), mutations:" + log + " -> " + t, t);
                }
            }
        }
        assertTrue(rejected > 0 && opened > 0, "opened " + opened + ", rejected " + rejected);
    }

    private static void touch(GgufFile f) {
        for (GgufTensorInfo t : f.tensors()) {
            MemorySegment data = f.tensorData(t);
            long n = data.byteSize();
            if (n != t.byteSize()) {
                throw new AssertionError("slice of " + n + " bytes for " + t);
            }
            if (n > 0) {
                data.get(ValueLayout.JAVA_BYTE, 0);
                data.get(ValueLayout.JAVA_BYTE, n - 1);
                data.get(ValueLayout.JAVA_BYTE, n / 2);
            }
            t.toString();
            t.elementCount();
            f.tensor(t.name());
        }
        for (Map.Entry<String, GgufValue> e : f.metadata().asMap().entrySet()) {
            touch(e.getValue());
            f.metadata().get(e.getKey());
        }
        f.metadata().hashCode();
        f.alignment();
        f.dataOffset();
    }

    private static void touch(GgufValue v) {
        v.toString();
        v.hashCode();
        if (!v.equals(v)) {
            throw new AssertionError("value not equal to itself: " + v);
        }
        int n = v.length();
        if (v.value() instanceof GgufValue[] inner) {
            if (inner.length != n) {
                throw new AssertionError("length " + n + " of " + v);
            }
            for (GgufValue x : inner) {
                touch(x);
            }
        } else if (v.value() instanceof String[] s) {
            for (String x : s) {
                x.length();
            }
        }
    }

    private static byte[] mutate(Base base, Random r, StringBuilder log) {
        byte[] b = base.bytes.clone();
        int count = 1 + r.nextInt(4);
        for (int m = 0; m < count && b.length > 0; m++) {
            // mostly inside header/metadata/tensor table, where the parsing happens
            int limit = r.nextInt(8) == 0 ? b.length : Math.min(b.length, Math.max(1, base.headerEnd));
            int p = r.nextInt(limit);
            int op = r.nextInt(8);
            switch (op) {
                case 0 -> {
                    int x = 1 + r.nextInt(255);
                    b[p] ^= (byte) x;
                    log.append(" xor@").append(p).append('=').append(x);
                }
                case 1 -> {
                    int bit = r.nextInt(8);
                    b[p] ^= (byte) (1 << bit);
                    log.append(" bit@").append(p).append('.').append(bit);
                }
                case 2 -> {
                    long v = r.nextInt(4) == 0 ? r.nextInt(64) : EXTREME_LONGS[r.nextInt(EXTREME_LONGS.length)];
                    for (int k = 0; k < 8 && p + k < b.length; k++) {
                        b[p + k] = (byte) (v >>> (8 * k));
                    }
                    log.append(" u64@").append(p).append('=').append(v);
                }
                case 3 -> {
                    int v = EXTREME_INTS[r.nextInt(EXTREME_INTS.length)];
                    for (int k = 0; k < 4 && p + k < b.length; k++) {
                        b[p + k] = (byte) (v >>> (8 * k));
                    }
                    log.append(" u32@").append(p).append('=').append(v);
                }
                case 4 -> {
                    b = Arrays.copyOf(b, p);
                    log.append(" truncate@").append(p);
                }
                case 5 -> {
                    int len = 1 + r.nextInt(Math.min(64, b.length - p));
                    int at = r.nextInt(b.length + 1);
                    byte[] out = new byte[b.length + len];
                    System.arraycopy(b, 0, out, 0, at);
                    System.arraycopy(b, p, out, at, len);
                    System.arraycopy(b, at, out, at + len, b.length - at);
                    b = out;
                    log.append(" dup[").append(p).append('+').append(len).append("]@").append(at);
                }
                case 6 -> {
                    int len = 1 + r.nextInt(Math.min(64, b.length - p));
                    byte[] out = new byte[b.length - len];
                    System.arraycopy(b, 0, out, 0, p);
                    System.arraycopy(b, p + len, out, p, b.length - p - len);
                    b = out;
                    log.append(" remove[").append(p).append('+').append(len).append(']');
                }
                default -> {
                    // overwrite an aligned 8-byte word (counts, lengths, dims and offsets are u64)
                    int q = p & ~7;
                    long v = EXTREME_LONGS[r.nextInt(EXTREME_LONGS.length)];
                    for (int k = 0; k < 8 && q + k < b.length; k++) {
                        b[q + k] = (byte) (v >>> (8 * k));
                    }
                    log.append(" word@").append(q).append('=').append(v);
                }
            }
        }
        return b;
    }
}
