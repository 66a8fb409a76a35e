package dev.gearbx.engine.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every hostile input must fail with a {@link GgufFormatException} naming the field and the offset.
 * File layout used by the hand-made cases: magic 0, version 4, tensor_count 8, metadata_kv_count
 * 16, first key length 24; with key "k": key bytes 32, value type 33, value 37. With no metadata
 * and a tensor named "t": name length 24, name 32, n_dims 33, dims[0] 37, then type and offset.
 */
class GgufHostileInputTest {
    private static final int F32 = GgmlType.F32.id();

    @TempDir
    Path tmp;

    private Path write(byte[] bytes) throws IOException {
        Path p = tmp.resolve("hostile.gguf");
        Files.deleteIfExists(p); // rewriting in place is slow on ext4 (flush on close after truncate)
        Files.write(p, bytes);
        return p;
    }

    private GgufFormatException open(byte[] bytes) throws IOException {
        Path p = write(bytes);
        try (GgufFile f = GgufFile.open(p)) {
            fail("opened a hostile file: " + f.tensors() + " " + f.metadata().asMap());
            return null;
        } catch (GgufFormatException e) {
            assertEquals(p, e.file());
            assertTrue(e.getMessage().contains(e.field()), e::getMessage);
            assertTrue(e.getMessage().contains("offset " + e.offset()), e::getMessage);
            assertTrue(e.offset() >= 0 && e.offset() <= bytes.length + (1L << 20), e::getMessage);
            return e;
        } catch (Throwable t) {
            throw new AssertionError("expected GgufFormatException, got " + t, t);
        }
    }

    /** Asserts the failure names {@code field} at {@code offset} (-1: any) and says {@code problem}. */
    private GgufFormatException expect(byte[] bytes, String field, long offset, String... problem) throws IOException {
        GgufFormatException e = open(bytes);
        assertEquals(field, e.field(), e::getMessage);
        if (offset >= 0) {
            assertEquals(offset, e.offset(), e::getMessage);
        }
        for (String p : problem) {
            assertTrue(e.getMessage().contains(p), () -> "message should contain '" + p + "': " + e.getMessage());
        }
        return e;
    }

    private static LeBytes oneKey(GgufValueType type) {
        return LeBytes.header(3, 0, 1).key("k", type);
    }

    private static LeBytes oneTensor(long[] dims, int typeId, long offset) {
        return LeBytes.header(3, 1, 0).tensor("t", dims, typeId, offset);
    }

    /** A small valid file whose last tensor ends exactly at the end of the file. */
    static byte[] smallValidFile(Path dir) throws IOException {
        Path p = dir.resolve("small.gguf");
        new GgufWriter()
                .put("general.architecture", GgufValue.ofString("llama"))
                .put("n", GgufValue.ofInt32(7))
                .put("b", GgufValue.ofBool(true))
                .put("f", GgufValue.ofFloats(1f, 2f))
                .put("s", GgufValue.ofStrings("a", "", "ü"))
                .tensor("a", GgmlType.F32, new long[] {4}, new float[] {1, 2, 3, 4})
                .tensor("b", GgmlType.F16, new long[] {4, 2}, new float[8])
                .tensor("c", GgmlType.F32, new long[] {8}, new float[] {1, 2, 3, 4, 5, 6, 7, 8})
                .write(p);
        byte[] b = Files.readAllBytes(p);
        Files.delete(p);
        return b;
    }

    @Test
    void emptyFile() throws IOException {
        expect(new byte[0], "magic", 0, "truncated");
    }

    @Test
    void everyTruncationFails() throws IOException {
        byte[] valid = smallValidFile(tmp);
        try (GgufFile f = GgufFile.open(write(valid))) {
            GgufTensorInfo c = f.tensor("c");
            assertEquals(valid.length, f.dataOffset() + c.offset() + c.byteSize(), "last tensor ends the file");
        }
        for (int n = 0; n < valid.length; n++) {
            GgufFormatException e = open(Arrays.copyOf(valid, n));
            assertTrue(e.getMessage().contains("truncated") || e.getMessage().contains("past the end")
                    || e.getMessage().contains("cannot fit"), e::getMessage);
        }
    }

    @Test
    void wrongMagic() throws IOException {
        byte[] b = LeBytes.header(3, 0, 0).bytes();
        b[3] = 'G';
        expect(b, "magic", 0, "expected 'GGUF'", "0x47554747");
    }

    @Test
    void version1() throws IOException {
        expect(LeBytes.header(1, 0, 0).bytes(), "version", 4, "version 1 is not supported");
    }

    @Test
    void bigEndianVersion() throws IOException {
        expect(LeBytes.header(Integer.reverseBytes(3), 0, 0).bytes(), "version", 4, "big-endian");
        expect(LeBytes.header(Integer.reverseBytes(2), 0, 0).bytes(), "version", 4, "big-endian");
    }

    @Test
    void unsupportedVersion4() throws IOException {
        expect(LeBytes.header(4, 0, 0).bytes(), "version", 4, "unsupported version 4");
        expect(LeBytes.header(-1, 0, 0).bytes(), "version", 4, "unsupported version 4294967295");
    }

    @ParameterizedTest
    @ValueSource(longs = {1L << 62, -1L, Long.MIN_VALUE, Long.MAX_VALUE, 1_000_000})
    void absurdTensorCount(long count) throws IOException {
        expect(LeBytes.header(3, count, 0).zeros(64).bytes(), "tensor_count", 8, "cannot fit");
    }

    @ParameterizedTest
    @ValueSource(longs = {1L << 62, -1L, Long.MIN_VALUE, Long.MAX_VALUE, 1_000_000})
    void absurdKvCount(long count) throws IOException {
        expect(LeBytes.header(3, 0, count).zeros(64).bytes(), "metadata_kv_count", 16, "cannot fit");
    }

    @Test
    void absurdKeyLength() throws IOException {
        expect(LeBytes.header(3, 0, 1).u64(1L << 40).zeros(64).bytes(), "metadata[0].key.length", 24,
                "string length 1099511627776 exceeds the limit");
        expect(LeBytes.header(3, 0, 1).u64(Long.MIN_VALUE).zeros(64).bytes(), "metadata[0].key.length", 24,
                "string length 9223372036854775808 exceeds the limit");
        expect(LeBytes.header(3, 0, 1).u64(-1).zeros(64).bytes(), "metadata[0].key.length", 24, "18446744073709551615");
    }

    @Test
    void stringLongerThanTheFile() throws IOException {
        expect(LeBytes.header(3, 0, 1).u64(1000).zeros(64).bytes(), "metadata[0].key", 32, "truncated", "needs 1000 bytes");
    }

    @Test
    void absurdStringValueLength() throws IOException {
        expect(oneKey(GgufValueType.STRING).u64(1L << 40).zeros(16).bytes(), "metadata['k'].length", 37, "exceeds the limit");
        expect(oneKey(GgufValueType.STRING).u64(Long.MIN_VALUE).zeros(16).bytes(), "metadata['k'].length", 37,
                "9223372036854775808");
    }

    @Test
    void invalidUtf8IsReplacedNotThrown() throws IOException {
        byte[] b = oneKey(GgufValueType.STRING).u64(4).raw(new byte[] {(byte) 0xC3, (byte) 0x28, (byte) 0xFF, (byte) 0xED}).bytes();
        try (GgufFile f = GgufFile.open(write(b))) {
            assertEquals(4, f.metadata().getString("k").length(), f.metadata().getString("k"));
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {1L << 62, -1L, Long.MIN_VALUE, (1L << 26) + 1})
    void absurdArrayLength(long length) throws IOException {
        expect(oneKey(GgufValueType.ARRAY).u32(GgufValueType.UINT8.id()).u64(length).zeros(16).bytes(),
                "metadata['k'].length", 41, "exceeds the limit");
    }

    @ParameterizedTest
    @ValueSource(strings = {"UINT8", "BOOL", "INT16", "FLOAT64", "STRING", "ARRAY"})
    void arrayLongerThanTheFile(GgufValueType et) throws IOException {
        // 17 elements of at least one byte each, 16 bytes left
        expect(oneKey(GgufValueType.ARRAY).u32(et.id()).u64(17).zeros(16).bytes(), "metadata['k'].length", 41, "cannot fit");
    }

    @ParameterizedTest
    @ValueSource(ints = {13, 100, -1, Integer.MIN_VALUE})
    void unknownValueType(int type) throws IOException {
        expect(LeBytes.header(3, 0, 1).str("k").u32(type).zeros(16).bytes(), "metadata['k'].type", 33,
                "unknown metadata value type " + Integer.toUnsignedString(type));
    }

    @ParameterizedTest
    @ValueSource(ints = {13, -1})
    void unknownArrayElementType(int type) throws IOException {
        expect(oneKey(GgufValueType.ARRAY).u32(type).u64(0).bytes(), "metadata['k'].element_type", 37,
                "unknown metadata value type " + Integer.toUnsignedString(type));
    }

    private static byte[] nested(int levels) {
        LeBytes b = oneKey(GgufValueType.ARRAY);
        for (int i = 0; i < levels - 1; i++) {
            b.u32(GgufValueType.ARRAY.id()).u64(1);
        }
        return b.u32(GgufValueType.INT32.id()).u64(1).u32(42).bytes();
    }

    @Test
    void nestingUpToTheLimitIsRead() throws IOException {
        try (GgufFile f = GgufFile.open(write(nested(GgufReader.MAX_NESTING)))) {
            GgufValue v = f.metadata().get("k");
            for (int i = 0; i < GgufReader.MAX_NESTING - 1; i++) {
                v = ((GgufValue[]) v.value())[0];
            }
            assertEquals(new GgufValue(GgufValueType.ARRAY, GgufValueType.INT32, new int[] {42}), v);
        }
    }

    @Test
    void arraysNestedBeyondTheLimit() throws IOException {
        GgufFormatException e = expect(nested(GgufReader.MAX_NESTING + 1),
                "metadata['k']" + "[0]".repeat(GgufReader.MAX_NESTING), -1, "nested deeper than " + GgufReader.MAX_NESTING);
        assertEquals(37 + 12L * GgufReader.MAX_NESTING, e.offset());
        byte[] deep = new byte[100_000];
        LeBytes b = oneKey(GgufValueType.ARRAY);
        while (b.size() < deep.length - 12) {
            b.u32(GgufValueType.ARRAY.id()).u64(1);
        }
        open(b.bytes()); // no StackOverflowError
    }

    @Test
    void boolByte2() throws IOException {
        expect(oneKey(GgufValueType.BOOL).u8(2).bytes(), "metadata['k']", 37, "boolean must be 0 or 1, got 2");
        expect(oneKey(GgufValueType.ARRAY).u32(GgufValueType.BOOL.id()).u64(3).u8(1).u8(0).u8(0xFF).bytes(),
                "metadata['k'][2]", 51, "boolean must be 0 or 1, got 255");
    }

    @Test
    void duplicateKey() throws IOException {
        byte[] b = LeBytes.header(3, 0, 2).key("k", GgufValueType.INT32).u32(1).key("k", GgufValueType.STRING).str("x").bytes();
        expect(b, "metadata[1].key", 41, "duplicate key 'k'");
    }

    @Test
    void duplicateTensorName() throws IOException {
        byte[] b = LeBytes.header(3, 2, 0).tensor("t", new long[] {8}, F32, 0).tensor("t", new long[] {8}, F32, 32)
                .pad(32).zeros(64).bytes();
        expect(b, "tensor[1].name", 57, "duplicate tensor name 't'");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 5, -1, 1 << 30})
    void badDimensionCount(int nDims) throws IOException {
        byte[] b = LeBytes.header(3, 1, 0).str("t").u32(nDims).u64(8).u32(F32).u64(0).zeros(64).bytes();
        expect(b, "tensor[0 't'].n_dims", 33, "must be 1..4, got " + Integer.toUnsignedString(nDims));
    }

    @Test
    void dimensionsOverflowOnMultiply() throws IOException {
        expect(oneTensor(new long[] {1L << 32, 1L << 32}, F32, 0).zeros(64).bytes(), "tensor[0 't'].dims[1]", 45, "overflows");
        expect(oneTensor(new long[] {2, 3, 1L << 61, 1L << 61}, F32, 0).zeros(64).bytes(), "tensor[0 't'].dims[2]", 53, "overflows");
        expect(oneTensor(new long[] {-1}, F32, 0).zeros(64).bytes(), "tensor[0 't'].dims[0]", 37, "too large");
    }

    @Test
    void byteSizeOverflows() throws IOException {
        // 2^62 elements fit in a long, 2^64 bytes do not
        GgufFormatException e = open(oneTensor(new long[] {1L << 31, 1L << 31}, F32, 0).zeros(64).bytes());
        assertTrue(e.field().startsWith("tensor[0 't']"), e::getMessage);
        assertTrue(e.getMessage().contains("overflow"), e::getMessage);
        assertTrue(e.offset() >= 24 && e.offset() < 90, e::getMessage);
    }

    @ParameterizedTest
    @ValueSource(ints = {4, 5, 31, 32, 33, 40, 64, 1000, -1})
    void unknownGgmlType(int typeId) throws IOException {
        expect(oneTensor(new long[] {32}, typeId, 0).zeros(64).bytes(), "tensor[0 't'].type", 45,
                "unknown ggml tensor type id " + Integer.toUnsignedString(typeId));
    }

    @Test
    void rowNotAMultipleOfTheBlockSize() throws IOException {
        expect(oneTensor(new long[] {33, 2}, GgmlType.Q4_0.id(), 0).pad(32).zeros(128).bytes(), "tensor[0 't'].dims[0]", 37,
                "row length 33 is not a multiple of the Q4_0 block size 32");
        expect(oneTensor(new long[] {300}, GgmlType.Q4_K.id(), 0).pad(32).zeros(512).bytes(), "tensor[0 't'].dims[0]", 37,
                "Q4_K block size 256");
    }

    @ParameterizedTest
    @ValueSource(longs = {4, 31, 33, -32, Long.MIN_VALUE, -1})
    void tensorOffsetNotAligned(long offset) throws IOException {
        expect(oneTensor(new long[] {8}, F32, offset).pad(32).zeros(128).bytes(), "tensor[0 't'].offset", 49,
                "is not a multiple of the alignment 32");
    }

    @ParameterizedTest
    @ValueSource(longs = {64, 1L << 40, 0x7FFF_FFFF_FFFF_FFE0L, 0x4000_0000_0000_0000L})
    void tensorDataPastTheEnd(long offset) throws IOException {
        expect(oneTensor(new long[] {8}, F32, offset).pad(32).zeros(32).bytes(), "tensor[0 't'].offset", 49,
                "ends past the end of the file");
    }

    @Test
    void tensorSizeBiggerThanTheFileHolds() throws IOException {
        // 16 floats declared, 8 present
        expect(oneTensor(new long[] {16}, F32, 0).pad(32).zeros(32).bytes(), "tensor[0 't'].offset", 49,
                "data of 64 bytes", "ends past the end of the file");
        // the second tensor's data is cut short
        byte[] b = LeBytes.header(3, 2, 0).tensor("a", new long[] {8}, F32, 0).tensor("b", new long[] {16}, F32, 32)
                .pad(32).zeros(64).bytes();
        expect(b, "tensor[1 'b'].offset", 82, "ends past the end of the file");
    }

    @Test
    void overlappingTensors() throws IOException {
        byte[] b = LeBytes.header(3, 2, 0).tensor("a", new long[] {16}, F32, 0).tensor("b", new long[] {8}, F32, 32)
                .pad(32).zeros(128).bytes();
        expect(b, "tensor[1 'b'].offset", 82, "overlaps tensor 'a'");
        // same offset, listed in the other order
        b = LeBytes.header(3, 2, 0).tensor("a", new long[] {8}, F32, 64).tensor("b", new long[] {16}, F32, 32)
                .pad(32).zeros(128).bytes();
        expect(b, "tensor[0 'a'].offset", 57 - 8, "overlaps tensor 'b'");
    }

    @Test
    void zeroSizeTensorsMayShareAnOffset() throws IOException {
        byte[] b = LeBytes.header(3, 3, 0).tensor("a", new long[] {0}, F32, 0).tensor("b", new long[] {8, 0}, F32, 0)
                .tensor("c", new long[] {8}, F32, 0).pad(32).zeros(32).bytes();
        try (GgufFile f = GgufFile.open(write(b))) {
            assertEquals(0, f.tensorData(f.tensor("a")).byteSize());
            assertEquals(32, f.tensorData(f.tensor("c")).byteSize());
        }
    }

    @Test
    void badAlignment() throws IOException {
        for (long a : new long[] {0, 3, 48, 1L << 31, 0xFFFF_FFFFL}) {
            expect(LeBytes.header(3, 0, 1).key("general.alignment", GgufValueType.UINT32).u32((int) a).bytes(),
                    "metadata['general.alignment']", 53, "must be a UINT32 power of two");
        }
        expect(LeBytes.header(3, 0, 1).key("general.alignment", GgufValueType.STRING).str("32").bytes(),
                "metadata['general.alignment']", 53, "must be a UINT32 power of two", "STRING");
        expect(LeBytes.header(3, 0, 1).key("general.alignment", GgufValueType.FLOAT32).u32(Float.floatToIntBits(32f)).bytes(),
                "metadata['general.alignment']", 53, "must be a UINT32 power of two");
    }

    @Test
    void alignmentIsHonoured() throws IOException {
        // alignment 8: offset 8 is fine, data section at a multiple of 8
        byte[] b = LeBytes.header(3, 1, 1).key("general.alignment", GgufValueType.UINT32).u32(8)
                .tensor("t", new long[] {2}, F32, 8).pad(8).zeros(16).bytes();
        try (GgufFile f = GgufFile.open(write(b))) {
            assertEquals(8, f.alignment());
            assertEquals(0, f.dataOffset() % 8);
        }
    }

    /** 2^26 empty strings per array take 512 MiB of (sparse) file but several GiB of heap. */
    @Test
    void metadataThatWouldExhaustTheHeap() throws IOException {
        int arrays = 4;
        long perArray = GgufReader.MAX_ARRAY_LENGTH;
        long total = 24 + arrays * (8 + 2 + 4 + 4 + 8 + perArray * 8);
        Assumptions.assumeTrue(Files.getFileStore(tmp).getUsableSpace() > total + (1L << 30),
                "not enough space in " + tmp + " for a " + total + "-byte (sparse) file");
        Path p = tmp.resolve("heap-bomb.gguf");
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(LeBytes.header(3, 0, arrays).bytes()));
            for (int i = 0; i < arrays; i++) {
                ch.write(ByteBuffer.wrap(new LeBytes().str("k" + i).u32(GgufValueType.ARRAY.id())
                        .u32(GgufValueType.STRING.id()).u64(perArray).bytes()));
                ch.position(ch.position() + perArray * 8); // zeros: empty strings
            }
            ch.write(ByteBuffer.wrap(new byte[1]), total - 1);
        }
        try {
            GgufFormatException e = assertThrows(GgufFormatException.class, () -> GgufFile.open(p).close());
            assertTrue(e.getMessage().contains("heap"), e::getMessage);
        } finally {
            Files.delete(p);
        }
    }

    private static long mappings() throws IOException {
        Path maps = Path.of("/proc/self/maps");
        return Files.isReadable(maps) ? Files.readAllLines(maps).size() : -1;
    }

    /** A failed open must close its arena: no leaked mappings, no exhausted memory. */
    @Test
    void failedOpensDoNotLeak() throws IOException {
        byte[] valid = smallValidFile(tmp);
        // overlapping tensors: fails after the whole header has been parsed and the file mapped
        byte[] late = LeBytes.header(3, 2, 0).tensor("a", new long[] {16}, F32, 0).tensor("b", new long[] {8}, F32, 32)
                .pad(32).zeros(1 << 16).bytes();
        List<byte[]> files = List.of(new byte[0], Arrays.copyOf(valid, valid.length - 1), late);
        Path[] paths = new Path[files.size()];
        for (int i = 0; i < paths.length; i++) {
            paths[i] = tmp.resolve("leak" + i + ".gguf");
            Files.write(paths[i], files.get(i));
        }
        long before = mappings();
        for (int i = 0; i < 10_000; i++) {
            Path p = paths[i % paths.length];
            try {
                GgufFile.open(p).close();
                fail("opened " + p);
            } catch (GgufFormatException expected) {
                // fine
            }
        }
        long after = mappings();
        if (before >= 0) {
            assertTrue(after - before < 200, "mappings grew from " + before + " to " + after);
        }
    }
}
