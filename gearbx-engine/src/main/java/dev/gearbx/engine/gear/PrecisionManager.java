package dev.gearbx.engine.gear;

import dev.gearbx.engine.gguf.GgmlType;
import dev.gearbx.engine.tensor.NestedInt8Storage;
import dev.gearbx.engine.tensor.PackedMatrix;
import dev.gearbx.engine.tensor.WeightMatrix;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Decides which linear layers follow the gear, builds their formats (lazily on the first shift
 * that needs one, or all at once when eager), and accounts for the memory. One per loaded model;
 * closing it frees the quantized formats. Thread-safe.
 */
public final class PrecisionManager implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(PrecisionManager.class.getName());

    private final GearConfig config;
    private final Arena arena = Arena.ofShared();
    private final List<ManagedLinear> managed = new ArrayList<>();
    private final EnumMap<Gear, Long> offHeap = new EnumMap<>(Gear.class);
    private final AtomicBoolean warnedDouble = new AtomicBoolean();

    public PrecisionManager(GearConfig config) {
        this.config = config;
    }

    public GearConfig config() {
        return config;
    }

    /** Wraps block {@code layer}'s linear layer when the config manages it; returns it unchanged otherwise. */
    public Linear manage(int layer, Linear linear) {
        if (!config.manages(layer, linear.name())) {
            return linear;
        }
        if (linear.original().cols() % config.groupSize() != 0) {
            LOG.log(System.Logger.Level.DEBUG, "{0} stays at its original precision in every gear: its rows of {1} "
                    + "weights are not a whole number of groups of {2}", linear.name(), linear.original().cols(),
                    config.groupSize());
            return linear;
        }
        ManagedLinear m = new ManagedLinear(linear.name(), linear.original(), config, arena, this);
        synchronized (this) {
            managed.add(m);
        }
        if (config.eager()) {
            for (Gear g : Gear.values()) {
                m.at(g);
            }
        }
        return m;
    }

    /** Builds every managed layer's format for {@code gear} now (e.g. before a benchmark). */
    public void prepare(Gear gear) {
        for (ManagedLinear m : managedLayers()) {
            m.at(gear);
        }
    }

    /** Number of managed layers. */
    public synchronized int managedCount() {
        return managed.size();
    }

    private synchronized List<ManagedLinear> managedLayers() {
        return List.copyOf(managed);
    }

    /** Off-heap bytes of the formats built so far, per gear. */
    public synchronized Map<Gear, Long> offHeapByGear() {
        return Collections.unmodifiableMap(new EnumMap<>(offHeap));
    }

    synchronized void recordNested(NestedInt8Storage storage) {
        offHeap.merge(Gear.MID, storage.byteSize(), Long::sum);
    }

    synchronized void recordPacked(Gear gear, PackedMatrix matrix) {
        offHeap.merge(gear, matrix.byteSize(), Long::sum);
    }

    /** Logs once when a source that is already below 8 bits gets quantized again. */
    void warnIfDoubleQuantized(Linear layer, GearFormat target) {
        GgmlType source = layer.original().type();
        boolean lowBitSource = !(source == GgmlType.F32 || source == GgmlType.F16 || source == GgmlType.BF16
                || source == GgmlType.Q8_0);
        if (lowBitSource && warnedDouble.compareAndSet(false, true)) {
            LOG.log(System.Logger.Level.WARNING, "quantizing {0} ({1}) again to {2}: the source is already below 8 bits, "
                    + "so errors compound (double quantization); consider an F16/BF16/Q8_0 model file",
                    layer.name(), source, target);
        }
    }

    /** Bytes a matvec with this matrix reads (codes and scales for packed formats). */
    public static long bytesRead(WeightMatrix m) {
        return m instanceof PackedMatrix p ? p.codeBytes() + p.scaleBytes() : m.byteSize();
    }

    /** Frees every quantized format; the managed layers must not be used afterwards. */
    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
