package dev.gearbx.kernels.cuda;

import java.util.ArrayList;
import java.util.List;
import jcuda.Pointer;
import jcuda.driver.CUfunction;

/**
 * One kernel launch with its parameters bound (built once per sequence and gear, then replayed every step).
 *
 * @param kernel the kernel's name
 * @param function the loaded kernel
 * @param grid blocks (one-dimensional)
 * @param block threads per block
 * @param parameters the kernel parameter array
 */
record Launch(String kernel, CUfunction function, int grid, int block, Pointer parameters) {

    /** Builds a launch; arguments are {@link DeviceBuffer}s, {@code Integer}, {@code Long} or {@code Float}. */
    static Launch of(CudaDevice device, String kernel, int grid, int block, Object... args) {
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
        if (grid <= 0) {
            throw new IllegalArgumentException("grid of " + kernel + " must be positive, got " + grid);
        }
        return new Launch(kernel, device.function(kernel), grid, block, Pointer.to(ps.toArray(new Pointer[0])));
    }
}
