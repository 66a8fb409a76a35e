package dev.gearbx.engine.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Files over 2 GiB: offsets beyond 2^31 must work (the writer leaves the untouched bytes sparse). */
class GgufLargeFileTest {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final long BIG = (1L << 31) + (1L << 27); // 2.125 GiB of I8

    @TempDir
    Path tmp;

    @Test
    void tensorBeyond2GiB() throws IOException {
        long needed = BIG + (1L << 26);
        long usable = Files.getFileStore(tmp).getUsableSpace();
        Assumptions.assumeTrue(usable > needed + (1L << 30),
                "temp filesystem " + tmp + " has " + usable + " bytes free; a ~2.2 GiB file needs " + needed
                        + " (it is sparse where supported, but the space is required in case it is not)");
        Path file = tmp.resolve("big.gguf");
        try {
            new GgufWriter()
                    .put("general.architecture", GgufValue.ofString("test"))
                    .tensor("head", GgmlType.F32, new long[] {4}, new float[] {1, 2, 3, 4})
                    .tensor("big", GgmlType.I8, new long[] {BIG}, t -> {
                        t.set(ValueLayout.JAVA_BYTE, 0, (byte) 11);
                        t.set(ValueLayout.JAVA_BYTE, (1L << 31) - 1, (byte) 22);
                        t.set(ValueLayout.JAVA_BYTE, 1L << 31, (byte) 33);
                        t.set(ValueLayout.JAVA_BYTE, BIG - 1, (byte) 44);
                    })
                    .tensor("tail", GgmlType.F32, new long[] {8, 2}, t -> {
                        t.set(F32, 0, 1.5f);
                        t.set(F32, 15 * 4, -7.25f);
                    })
                    .write(file);
            assertTrue(Files.size(file) > BIG, "file size " + Files.size(file));
            try (GgufFile f = GgufFile.open(file)) {
                assertEquals(Files.size(file), f.fileSize());
                GgufTensorInfo big = f.tensor("big");
                GgufTensorInfo tail = f.tensor("tail");
                assertTrue(f.dataOffset() + tail.offset() > 1L << 31, "tail starts past 2^31: " + tail);
                MemorySegment b = f.tensorData(big);
                assertEquals(BIG, b.byteSize());
                assertEquals(11, b.get(ValueLayout.JAVA_BYTE, 0));
                assertEquals(22, b.get(ValueLayout.JAVA_BYTE, (1L << 31) - 1));
                assertEquals(33, b.get(ValueLayout.JAVA_BYTE, 1L << 31));
                assertEquals(0, b.get(ValueLayout.JAVA_BYTE, (1L << 31) + 1));
                assertEquals(44, b.get(ValueLayout.JAVA_BYTE, BIG - 1));
                MemorySegment t = f.tensorData(tail);
                assertEquals(64, t.byteSize());
                assertEquals(1.5f, t.get(F32, 0));
                assertEquals(0f, t.get(F32, 4));
                assertEquals(-7.25f, t.get(F32, 60));
                assertEquals(4f, f.tensorData(f.tensor("head")).get(F32, 12));
            }
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(file.resolveSibling(file.getFileName() + ".tmp"));
        }
    }
}
