package dev.gearbx.kernels.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import org.jspecify.annotations.Nullable;

/**
 * Kernel launches with programmatic dependent launch: {@code cuLaunchKernelEx} with the attribute
 * {@code CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION}, called through the FFM API because JCuda 12.6
 * binds neither the function nor the attribute. A kernel launched this way may be scheduled while the previous
 * kernel of the stream still runs; the kernels of the sm_90 PTX wait for it ({@code griddepcontrol.wait}) before
 * touching its output, and use the time to start their weight loads. Inside a stream capture the driver records
 * the relaxed order as programmatic graph edges.
 */
final class DependentLaunch {
    private static final System.Logger LOG = System.getLogger(DependentLaunch.class.getName());
    /** {@code CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION} in cuda.h. */
    private static final int PROGRAMMATIC_STREAM_SERIALIZATION = 6;
    /** {@code CU_LAUNCH_ATTRIBUTE_COOPERATIVE} in cuda.h. */
    private static final int COOPERATIVE = 2;
    // CUlaunchConfig: 7 unsigned ints (grid xyz, block xyz, shared bytes), pad, stream at 32, attrs at 40,
    // numAttrs at 48; 56 bytes
    private static final long CONFIG_BYTES = 56;
    // CUlaunchAttribute: id (int) padded to 8, then a 64-byte value union; 72 bytes
    private static final long ATTRIBUTE_BYTES = 72;

    private static final @Nullable MethodHandle LAUNCH_EX;
    private static final String UNAVAILABLE;

    static {
        MethodHandle handle = null;
        String why = "";
        try {
            SymbolLookup cuda = SymbolLookup.libraryLookup("libcuda.so.1", Arena.global());
            MemorySegment symbol = cuda.find("cuLaunchKernelEx").orElse(null);
            if (symbol == null) {
                why = "libcuda.so.1 has no cuLaunchKernelEx (driver older than CUDA 12.0)";
            } else {
                handle = Linker.nativeLinker().downcallHandle(symbol, FunctionDescriptor.of(ValueLayout.JAVA_INT,
                        ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
            }
        } catch (IllegalArgumentException | IllegalCallerException | UnsupportedOperationException e) {
            why = "libcuda.so.1 could not be opened through the FFM API: " + e.getMessage();
        }
        LAUNCH_EX = handle;
        UNAVAILABLE = why;
        if (handle == null) {
            LOG.log(System.Logger.Level.DEBUG, "dependent launch unavailable: {0}", why);
        }
    }

    private DependentLaunch() {}

    /** Whether {@code cuLaunchKernelEx} could be bound. */
    static boolean available() {
        return LAUNCH_EX != null;
    }

    /** Why {@link #available()} is false (empty when it is true). */
    static String unavailableReason() {
        return UNAVAILABLE;
    }

    /**
     * The native launch configuration (grid, block, dynamic shared memory, stream, the dependent-launch attribute) of
     * one launch, and its kernel parameter array, allocated in {@code arena}.
     *
     * @param sharedBytes dynamic shared memory per block
     * @param cooperative add the cooperative attribute (all blocks resident at once)
     * @param values one native segment per kernel parameter, holding its value
     */
    static Prepared prepare(Arena arena, long function, long stream, int grid, int block, int sharedBytes,
            boolean cooperative, MemorySegment[] values) {
        int count = cooperative ? 2 : 1;
        MemorySegment attribute = arena.allocate(ATTRIBUTE_BYTES * count, 8);
        attribute.set(ValueLayout.JAVA_INT, 0, PROGRAMMATIC_STREAM_SERIALIZATION);
        attribute.set(ValueLayout.JAVA_INT, 8, 1); // value.programmaticStreamSerializationAllowed
        if (cooperative) {
            attribute.set(ValueLayout.JAVA_INT, ATTRIBUTE_BYTES, COOPERATIVE);
            attribute.set(ValueLayout.JAVA_INT, ATTRIBUTE_BYTES + 8, 1); // value.cooperative
        }
        MemorySegment config = arena.allocate(CONFIG_BYTES, 8);
        config.set(ValueLayout.JAVA_INT, 0, grid);
        config.set(ValueLayout.JAVA_INT, 4, 1);
        config.set(ValueLayout.JAVA_INT, 8, 1);
        config.set(ValueLayout.JAVA_INT, 12, block);
        config.set(ValueLayout.JAVA_INT, 16, 1);
        config.set(ValueLayout.JAVA_INT, 20, 1);
        config.set(ValueLayout.JAVA_INT, 24, sharedBytes);
        config.set(ValueLayout.JAVA_LONG, 32, stream);
        config.set(ValueLayout.ADDRESS, 40, attribute);
        config.set(ValueLayout.JAVA_INT, 48, count);
        MemorySegment parameters = arena.allocate(ValueLayout.ADDRESS, values.length);
        for (int i = 0; i < values.length; i++) {
            parameters.setAtIndex(ValueLayout.ADDRESS, i, values[i]);
        }
        return new Prepared(config, MemorySegment.ofAddress(function), parameters, attribute, values);
    }

    /**
     * A launch ready for {@code cuLaunchKernelEx}. The attribute and the parameter values are kept reachable
     * here because the configuration and the parameter array point at them.
     */
    record Prepared(MemorySegment config, MemorySegment function, MemorySegment parameters, MemorySegment attribute,
                    MemorySegment[] values) {}

    /** Queues {@code p}; returns the driver's result code. */
    static int launch(Prepared p) {
        MethodHandle h = LAUNCH_EX;
        if (h == null) {
            throw new CudaException("dependent launch unavailable: " + UNAVAILABLE);
        }
        try {
            return (int) h.invokeExact(p.config(), p.function(), p.parameters(), MemorySegment.NULL);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new CudaException("cuLaunchKernelEx failed: " + t);
        }
    }
}
