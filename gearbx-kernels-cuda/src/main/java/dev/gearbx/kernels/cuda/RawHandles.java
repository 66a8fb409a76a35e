package dev.gearbx.kernels.cuda;

import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUstream;

/**
 * JCuda handle types that also give their native value, for the driver calls JCuda 12.6 does not bind and the
 * backend makes through the FFM API ({@link DependentLaunch}). JCuda keeps the value in a protected accessor; these
 * subclasses, created wherever the backend creates the handle, expose it.
 */
final class RawHandles {
    private RawHandles() {}

    /** A device allocation's address. */
    static final class DevicePointer extends CUdeviceptr {
        long address() {
            return getNativePointer();
        }
    }

    /** A loaded kernel ({@code CUfunction}). */
    static final class Function extends CUfunction {
        long address() {
            return getNativePointer();
        }
    }

    /** A stream ({@code CUstream}). */
    static final class Stream extends CUstream {
        long address() {
            return getNativePointer();
        }
    }
}
