package dev.gearbx.engine.hf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Safetensors written and read back, and hostile headers failing with the entry and offset named. */
class SafetensorsFileTest {
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @TempDir
    Path dir;

    @Test
    void writtenTensorsReadBack() {
        Path file = dir.resolve("a.safetensors");
        float[] values = {1.5f, -2f, 3.25f, 0f, 7f, -0.125f};
        new SafetensorsWriter().metadata("format", "pt")
                .tensor("w", SafetensorsDType.F32, new long[] {2, 3}, MemorySegment.ofArray(values))
                .tensor("b", SafetensorsDType.BF16, new long[] {3}, t -> t.fill((byte) 0x3f))
                .tensor("empty", SafetensorsDType.F16, new long[] {0, 4}, t -> { })
                .write(file);
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertEquals("pt", st.metadata().get("format"));
            assertEquals(0, st.dataOffset() % 8, "data is 8-byte aligned");
            SafetensorsTensor w = st.tensor("w");
            assertArrayEquals(new long[] {2, 3}, w.shape());
            assertEquals(SafetensorsDType.F32, w.dtype());
            assertArrayEquals(values, st.data(w).toArray(F32));
            assertEquals(6, st.data(st.tensor("b")).byteSize());
            assertEquals(0, st.tensor("empty").byteSize());
            assertTrue(st.find("missing").isEmpty());
            HfFormatException e = assertThrows(HfFormatException.class, () -> st.tensor("missing"));
            assertTrue(e.getMessage().contains("'missing'"), e.getMessage());
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "[1,2]| header | must be a JSON object",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}| tensor 'a'.data_offsets | holds 4 bytes but F32 [2] takes 8",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,800]}}| tensor 'a'.data_offsets | is not a range inside the 16 data bytes",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}| tensor 'a'.data_offsets | is not a range",
        "{\"a\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[0,8]}}| tensor 'a'.dtype | unknown dtype 'Q4'",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}| tensor 'a'.shape[0] | must be a non-negative integer",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[9223372036854775807,4],\"data_offsets\":[0,8]}}| tensor 'a'.shape | overflows",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}| tensor 'a'.data_offsets | missing",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}| tensor 'b'.data_offsets | overlaps tensor 'a'",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}| header | not valid JSON",
        "{\"__metadata__\":{\"k\":1}}| __metadata__.k | must be a string",
        "{\"a\": | header | not valid JSON",
    })
    void hostileHeadersNameTheEntry(String header, String field, String problem) throws IOException {
        Path file = dir.resolve("bad.safetensors");
        byte[] json = header.strip().getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + json.length + 16).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(json.length).put(json);
        Files.write(file, b.array());
        HfFormatException e = assertThrows(HfFormatException.class, () -> SafetensorsFile.open(file));
        assertEquals(field.strip(), e.field(), e.getMessage());
        assertTrue(e.getMessage().contains(problem.strip()), e.getMessage());
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        assertTrue(e.offset() >= 8, "an offset in the header or the data: " + e.offset());
    }

    @Test
    void impossibleHeaderLengthsAreRejected() throws IOException {
        Path file = dir.resolve("len.safetensors");
        for (long length : new long[] {-1L, 1L << 40, 100}) {
            Files.write(file, ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN).putLong(length).array());
            HfFormatException e = assertThrows(HfFormatException.class, () -> SafetensorsFile.open(file));
            assertEquals("header length", e.field());
            assertEquals(0, e.offset());
        }
        Files.write(file, new byte[5]);
        assertEquals("header length", assertThrows(HfFormatException.class, () -> SafetensorsFile.open(file)).field());
    }
}
