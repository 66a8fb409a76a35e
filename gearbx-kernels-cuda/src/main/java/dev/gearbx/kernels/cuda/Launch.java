package dev.gearbx.kernels.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import jcuda.Pointer;
import jcuda.driver.CUfunction;
import org.jspecify.annotations.Nullable;

/**
 * One kernel launch with its parameters bound (built once per sequence and gear, then replayed every step).
 *
 * @param kernel the kernel's name
 * @param function the loaded kernel
 * @param grid blocks (one-dimensional)
 * @param block threads per block
 * @param sharedBytes dynamic shared memory per block
 * @param cooperative a cooperative launch: every block resident at once (the persistent kernels' grid barriers need
 *     it; the driver refuses a grid that does not fit instead of letting it hang)
 * @param parameters the kernel parameter array (JCuda's {@code cuLaunchKernel})
 * @param dependent the same launch prepared for {@code cuLaunchKernelEx} with programmatic dependent launch, when
 *     the device supports it (see {@link CudaDevice#dependentLaunch()})
 */
record Launch(String kernel, CUfunction function, int grid, int block, int sharedBytes, boolean cooperative,
              Pointer parameters,
              DependentLaunch.@Nullable Prepared dependent) {

    /** Builds a launch; arguments are {@link DeviceBuffer}s, {@code Integer}, {@code Long} or {@code Float}. */
    static Launch of(CudaDevice device, String kernel, int grid, int block, Object... args) {
        return withSharedMemory(device, kernel, grid, block, 0, args);
    }

    /** {@link #of} for a kernel that takes {@code sharedBytes} of dynamic shared memory per block. */
    static Launch withSharedMemory(CudaDevice device, String kernel, int grid, int block, int sharedBytes,
            Object... args) {
        return build(device, kernel, grid, block, sharedBytes, false, args);
    }

    /** {@link #withSharedMemory} as a cooperative launch (all blocks resident together). */
    static Launch cooperative(CudaDevice device, String kernel, int grid, int block, int sharedBytes, Object... args) {
        return build(device, kernel, grid, block, sharedBytes, true, args);
    }

    private static Launch build(CudaDevice device, String kernel, int grid, int block, int sharedBytes,
            boolean cooperative, Object... args) {
        if (grid <= 0) {
            throw new IllegalArgumentException("grid of " + kernel + " must be positive, got " + grid);
        }
        if (sharedBytes < 0) {
            throw new IllegalArgumentException("dynamic shared memory of " + kernel + " must be >= 0, got " + sharedBytes);
        }
        List<Pointer> ps = new ArrayList<>(args.length);
        for (Object a : args) {
            ps.add(switch (a) {
                case DeviceBuffer b -> Pointer.to(b.pointer());
                case Integer i -> Pointer.to(new int[] {i});
                case Long l -> Pointer.to(new long[] {l});
                case Float f -> Pointer.to(new float[] {f});
                default -> throw new IllegalArgumentException("kernel argument of type " + a.getClass() + " for " + kernel);
            });
        }
        RawHandles.Function function = device.function(kernel);
        device.allowSharedMemory(kernel, function, sharedBytes);
        DependentLaunch.Prepared dependent = null;
        if (device.dependentLaunch()) {
            Arena arena = Arena.ofAuto();
            MemorySegment[] values = new MemorySegment[args.length];
            for (int i = 0; i < args.length; i++) {
                values[i] = switch (args[i]) {
                    case DeviceBuffer b -> arena.allocateFrom(ValueLayout.JAVA_LONG, b.pointer().address());
                    case Integer v -> arena.allocateFrom(ValueLayout.JAVA_INT, v);
                    case Long v -> arena.allocateFrom(ValueLayout.JAVA_LONG, v);
                    case Float v -> arena.allocateFrom(ValueLayout.JAVA_FLOAT, v);
                    default -> throw new IllegalStateException("checked above");
                };
            }
            dependent = DependentLaunch.prepare(arena, function.address(), device.streamAddress(), grid, block, sharedBytes,
                    cooperative, values);
        }
        return new Launch(kernel, function, grid, block, sharedBytes, cooperative, Pointer.to(ps.toArray(new Pointer[0])),
                dependent);
    }
}
