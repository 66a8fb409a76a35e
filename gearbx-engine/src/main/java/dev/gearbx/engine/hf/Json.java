package dev.gearbx.engine.hf;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reading and writing the JSON files of a model folder, errors as {@link HfFormatException}. */
final class Json {
    static final JsonMapper MAPPER = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .build();

    private Json() {}

    /** Reads a JSON object from {@code file}. */
    static JsonNode readObject(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new HfFormatException(file, file.getFileName().toString(), "file not found");
        }
        JsonNode root;
        try {
            root = MAPPER.readTree(file.toFile());
        } catch (JacksonException e) {
            throw new HfFormatException(file, "(document)", "not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        if (root == null || !root.isObject()) {
            throw new HfFormatException(file, "(document)", "must be a JSON object");
        }
        return root;
    }

    static void write(Path file, JsonNode node) {
        try {
            MAPPER.writeValue(file.toFile(), node);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    /** A required positive integer field. */
    static int positiveInt(Path file, JsonNode root, String key) {
        JsonNode v = root.get(key);
        if (v == null || !v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() <= 0) {
            throw new HfFormatException(file, key, "must be a positive integer, got " + v);
        }
        return v.asInt();
    }

    /** An optional positive integer field. */
    static int positiveInt(Path file, JsonNode root, String key, int absent) {
        JsonNode v = root.get(key);
        return v == null || v.isNull() ? absent : positiveInt(file, root, key);
    }

    /** An optional finite positive number. */
    static float positiveFloat(Path file, JsonNode root, String key, float absent) {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) {
            return absent;
        }
        if (!v.isNumber() || !(v.asDouble() > 0) || !Double.isFinite(v.asDouble())) {
            throw new HfFormatException(file, key, "must be a positive number, got " + v);
        }
        return (float) v.asDouble();
    }

    static boolean bool(Path file, JsonNode root, String key, boolean absent) {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) {
            return absent;
        }
        if (!v.isBoolean()) {
            throw new HfFormatException(file, key, "must be true or false, got " + v);
        }
        return v.asBoolean();
    }
}
