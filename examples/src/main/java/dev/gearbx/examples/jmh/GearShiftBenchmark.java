package dev.gearbx.examples.jmh;

import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.gear.GearConfig;
import dev.gearbx.engine.gear.Linear;
import dev.gearbx.engine.gear.ManagedScope;
import dev.gearbx.engine.gguf.GgmlType;
import dev.gearbx.engine.model.LlamaModel;
import dev.gearbx.engine.model.LlamaState;
import dev.gearbx.engine.model.ModelShape;
import dev.gearbx.engine.model.SyntheticModel;
import dev.gearbx.engine.tensor.Kernels;
import dev.gearbx.engine.tensor.WeightMatrix;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A gear shift as the forward pass sees it: the state's gear field is written, then every managed
 * layer of a block is looked up at the new gear. Run with {@code -prof gc} to see that it
 * allocates nothing.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class GearShiftBenchmark {
    private Path file;
    private LlamaModel model;
    private LlamaState state;
    private Linear[] block;
    private int i;
    private final Gear[] gears = Gear.values();

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        file = Files.createTempFile("gearbx-jmh", ".gguf");
        SyntheticModel.write(file, new ModelShape("jmh", 256, 2, 4, 2, 512, 1000, 128), GgmlType.F16, 1, 0.05f);
        model = LlamaModel.load(file, Kernels.preferred(), GearConfig.builder().scope(ManagedScope.ALL).eager(true).build());
        state = model.newState(16);
        block = model.weights().layers()[0].linears();
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        model.close();
        Files.deleteIfExists(file);
    }

    /** Shift and look up the seven linear layers of a block at the new gear. */
    @Benchmark
    public WeightMatrix shiftAndLookUpBlock() {
        state.shift(gears[i++ % 3]);
        WeightMatrix last = null;
        for (Linear l : block) {
            last = l.at(state.gear());
        }
        return last;
    }
}
