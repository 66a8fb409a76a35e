package dev.gearbx.reactive.models;

import dev.gearbx.engine.GearbxException;
import java.nio.file.Path;
import java.util.List;

/** A model reference names nothing that exists; the message says every place that was looked at. */
public final class ModelNotFoundException extends GearbxException {
    private static final long serialVersionUID = 1L;

    private final String reference;
    private final transient List<Path> lookedAt;

    public ModelNotFoundException(String reference, List<Path> lookedAt, String problem) {
        super("model '" + reference + "' " + problem + " (looked at: " + lookedAt + ")");
        this.reference = reference;
        this.lookedAt = List.copyOf(lookedAt);
    }

    public String reference() {
        return reference;
    }

    public List<Path> lookedAt() {
        return lookedAt;
    }
}
