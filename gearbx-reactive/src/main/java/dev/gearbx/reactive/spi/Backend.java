package dev.gearbx.reactive.spi;

import dev.gearbx.engine.gear.GearConfig;
import java.nio.file.Path;

/** Runs models on one kind of hardware. Thread-safe. */
public interface Backend {

    String name();

    /**
     * Prepares a model file: maps or uploads the weights in the formats the gears need.
     *
     * @throws dev.gearbx.engine.GearbxException (a subclass) if the file is missing, malformed or unsupported
     */
    LoadedModel load(Path file, GearConfig gears);
}
