package dev.gearbx.reactive.spi;

import dev.gearbx.engine.gear.GearConfig;
import dev.gearbx.engine.generate.GenerationRequest;
import dev.gearbx.engine.generate.Generator;
import dev.gearbx.engine.model.LlamaModel;
import dev.gearbx.engine.tensor.Kernels;
import java.nio.file.Path;

/** The pure-Java CPU backend of gearbx-engine ({@link LlamaModel}): always usable, rank 0. */
public final class CpuBackendProvider implements BackendProvider {
    public static final String NAME = "cpu";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int rank() {
        return 0;
    }

    @Override
    public Availability availability() {
        boolean vector = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
        return Availability.usable(vector ? "pure Java, Vector API kernels"
                : "pure Java, scalar kernels (add --add-modules jdk.incubator.vector for the Vector API ones)");
    }

    @Override
    public Backend create() {
        return new Backend() {
            @Override
            public String name() {
                return NAME;
            }

            @Override
            public LoadedModel load(Path file, GearConfig gears) {
                boolean vector = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
                return new CpuModel(LlamaModel.load(file, vector ? Kernels.preferred() : Kernels.scalar(), gears));
            }
        };
    }

    private static final class CpuModel implements LoadedModel {
        private final LlamaModel model;
        private final Generator generator;

        CpuModel(LlamaModel model) {
            this.model = model;
            this.generator = new Generator(model);
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
        public dev.gearbx.engine.gguf.GgufMetadata metadata() {
            return model.file().metadata();
        }

        @Override
        public String forwardDescription() {
            return "LlamaModel forward on " + model.kernels().getClass().getSimpleName();
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
