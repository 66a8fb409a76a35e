package dev.gearbx.examples.jmh;

import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.routing.EntropyMonitor;
import dev.gearbx.engine.routing.ModelFamily;
import dev.gearbx.engine.routing.ThresholdPolicy;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** One routing decision: entropy of a full vocabulary of logits, window update, policy. One thread. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Dgearbx.threads=1"})
public class EntropyMonitorBenchmark {
    @Param({"32000", "128256", "151936"})
    public int vocabulary;

    private float[] logits;
    private EntropyMonitor monitor;
    private ThresholdPolicy policy;
    private Gear gear = Gear.MID;

    @Setup
    public void setUp() {
        SplittableRandom r = new SplittableRandom(1);
        logits = new float[vocabulary];
        for (int i = 0; i < vocabulary; i++) {
            logits[i] = (float) (r.nextGaussian() * 3);
        }
        monitor = new EntropyMonitor(4, vocabulary);
        policy = new ThresholdPolicy(ModelFamily.LLAMA3.thresholdsFor(vocabulary));
    }

    /** Entropy of the logits and the monitor's window update. */
    @Benchmark
    public float monitorUpdate() {
        return monitor.observe(logits);
    }

    /** Monitor update plus the policy's decision. */
    @Benchmark
    public Gear monitorAndPolicy() {
        monitor.observe(logits);
        gear = policy.next(gear, monitor);
        return gear;
    }
}
