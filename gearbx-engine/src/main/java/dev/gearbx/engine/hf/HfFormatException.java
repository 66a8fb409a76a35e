package dev.gearbx.engine.hf;

import dev.gearbx.engine.GearbxException;
import java.nio.file.Path;

/**
 * A file of a Hugging Face model folder is malformed, hostile, missing or uses something gearbx
 * does not read. The message names the file, the field (a JSON key such as {@code
 * config.json:num_attention_heads}, or a safetensors header entry) and, in a safetensors file, the
 * byte offset.
 */
public final class HfFormatException extends GearbxException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final String field;
    private final long offset;

    /** A problem at a byte offset of a binary file. */
    public HfFormatException(Path file, String field, long offset, String problem) {
        super(file + ": " + field + (offset >= 0 ? " at offset " + offset : "") + ": " + problem);
        this.file = file;
        this.field = field;
        this.offset = offset;
    }

    /** A problem in a JSON file (no byte offset). */
    public HfFormatException(Path file, String field, String problem) {
        this(file, field, -1, problem);
    }

    /** The file that was being read. */
    public Path file() {
        return file;
    }

    /** The field that was being read, e.g. {@code tensor 'lm_head.weight'.data_offsets} or {@code hidden_size}. */
    public String field() {
        return field;
    }

    /** Byte offset in the file where the field starts, or -1 for JSON files. */
    public long offset() {
        return offset;
    }
}
