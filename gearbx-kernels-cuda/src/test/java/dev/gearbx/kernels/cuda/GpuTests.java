package dev.gearbx.kernels.cuda;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gearbx.reactive.spi.Availability;

/** What the GPU test classes share. */
final class GpuTests {
    private GpuTests() {}

    /** Opens device 0, or skips the calling test class with the reason the CUDA backend is unusable here. */
    static CudaDevice openOrSkip() {
        Availability a = new CudaBackendProvider().availability();
        assumeTrue(a.usable(), "CUDA backend unusable here: " + a.reason());
        return CudaDevice.open(0);
    }
}
