package dev.gearbx.engine.gguf;

import dev.gearbx.engine.GearbxException;
import java.nio.file.Path;

/**
 * A GGUF file is malformed, truncated, hostile or uses something gearbx does not read. The message
 * names the file, the field and the byte offset where the problem was found.
 */
public final class GgufFormatException extends GearbxException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final String field;
    private final long offset;

    public GgufFormatException(Path file, String field, long offset, String problem) {
        super(file + ": " + field + " at offset " + offset + ": " + problem);
        this.file = file;
        this.field = field;
        this.offset = offset;
    }

    /** The file that was being read. */
    public Path file() {
        return file;
    }

    /** The GGUF field that was being read, e.g. {@code tensor_count} or {@code tensor[3].type}. */
    public String field() {
        return field;
    }

    /** Byte offset in the file where the field starts. */
    public long offset() {
        return offset;
    }
}
