package dev.gearbx.engine.gguf;

import dev.gearbx.engine.GearbxException;

/** A metadata key a model needs is missing, has the wrong type or an impossible value. */
public final class GgufMetadataException extends GearbxException {
    private static final long serialVersionUID = 1L;

    private final String key;

    public GgufMetadataException(String key, String problem) {
        super("metadata '" + key + "': " + problem);
        this.key = key;
    }

    /** The metadata key, e.g. {@code llama.embedding_length}. */
    public String key() {
        return key;
    }
}
