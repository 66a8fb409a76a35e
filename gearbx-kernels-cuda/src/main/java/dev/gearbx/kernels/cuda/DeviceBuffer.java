package dev.gearbx.kernels.cuda;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Device memory allocated by {@link CudaDevice#alloc}.
 *
 * @param pointer the device address
 * @param bytes its size
 * @param what what it holds, for messages
 * @param freed set once it has been freed
 */
record DeviceBuffer(RawHandles.DevicePointer pointer, long bytes, String what, AtomicBoolean freed) {
    DeviceBuffer(RawHandles.DevicePointer pointer, long bytes, String what) {
        this(pointer, bytes, what, new AtomicBoolean());
    }

    /** Marks the buffer freed; true the first time only. */
    boolean free() {
        return freed.compareAndSet(false, true);
    }
}
