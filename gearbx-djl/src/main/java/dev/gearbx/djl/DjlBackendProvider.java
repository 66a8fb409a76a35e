package dev.gearbx.djl;

import ai.djl.engine.Engine;
import dev.gearbx.engine.gear.GearConfig;
import dev.gearbx.engine.gguf.GgufMetadata;
import dev.gearbx.engine.generate.GenerationRequest;
import dev.gearbx.engine.generate.Generator;
import dev.gearbx.reactive.spi.Availability;
import dev.gearbx.reactive.spi.Backend;
import dev.gearbx.reactive.spi.BackendProvider;
import dev.gearbx.reactive.spi.LoadedModel;
import dev.gearbx.reactive.spi.Sequence;
import java.nio.file.Path;

/**
 * The DJL PyTorch backend ({@value #NAME}), found by {@link java.util.ServiceLoader} when gearbx-djl
 * is on the class path. Its rank is below the CPU backend's: it runs when forced, with the builder's
 * {@code backend("djl")}, {@code -Dgearbx.backend=djl} or {@code GEARBX_BACKEND=djl}. libtorch is
 * loaded only by {@link #create()}.
 *
 * <pre>{@code
 * try (GearbxModel model = Gearbx.builder().model("stories260K.gguf").backend("djl").build()) {
 *     model.stream("Once upon a time").subscribe(chunk -> System.out.print(chunk.text()));
 * }
 * }</pre>
 */
public final class DjlBackendProvider implements BackendProvider {
    public static final String NAME = "djl";

    @Override
    public String name() {
        return NAME;
    }

    /** Below the CPU backend (0): chosen only when forced. */
    @Override
    public int rank() {
        return -10;
    }

    @Override
    public Availability availability() {
        return Availability.usable("DJL PyTorch on the class path (libtorch loads on first use)");
    }

    @Override
    public Backend create() {
        Engine engine = Engine.getEngine("PyTorch");
        String description = "Llama forward on libtorch " + engine.getVersion() + " (DJL " + Engine.getDjlVersion()
                + ", device " + engine.defaultDevice() + ")";
        return new Backend() {
            @Override
            public String name() {
                return NAME;
            }

            @Override
            public LoadedModel load(Path file, GearConfig gears) {
                return new DjlLoadedModel(DjlLlamaModel.load(file, gears), description);
            }
        };
    }

    private static final class DjlLoadedModel implements LoadedModel {
        private final DjlLlamaModel model;
        private final Generator generator;
        private final String description;

        DjlLoadedModel(DjlLlamaModel model, String description) {
            this.model = model;
            this.generator = new Generator(model);
            this.description = description;
        }

        @Override
        public int contextLength() {
            return model.config().contextLength();
        }

        @Override
        public int vocabularySize() {
            return model.config().vocabularySize();
        }

        @Override
        public GgufMetadata metadata() {
            return model.metadata();
        }

        @Override
        public String forwardDescription() {
            return description;
        }

        @Override
        public Sequence start(GenerationRequest request) {
            return Sequence.of(generator.start(request));
        }

        @Override
        public void close() {
            model.close();
        }
    }
}
