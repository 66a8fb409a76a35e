package dev.gearbx.kernels.cuda;

import dev.gearbx.engine.gear.GearConfig;
import dev.gearbx.engine.model.LlamaModel;
import dev.gearbx.engine.tensor.Kernels;
import dev.gearbx.reactive.spi.Availability;
import dev.gearbx.reactive.spi.Backend;
import dev.gearbx.reactive.spi.BackendProvider;
import dev.gearbx.reactive.spi.LoadedModel;
import java.nio.file.Path;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;
import org.jspecify.annotations.Nullable;

/**
 * The CUDA backend's provider (name {@code cuda}, rank 100): usable when the jar holds the kernels' PTX, the
 * CUDA driver loads and device 0 is compute capability 8.0 or newer. The probe never throws: a missing driver
 * (JCuda's native library then fails to link) or a failing driver call is an unusable answer with the reason.
 *
 * <pre>{@code
 * // picked automatically when usable; forced with -Dgearbx.backend=cuda
 * try (GearbxModel model = Gearbx.builder().model(Path.of("model.gguf")).backend("cuda").build()) {
 *     model.stream("Once upon a time").subscribe(chunk -> System.out.print(chunk.text()));
 * }
 * }</pre>
 *
 * <p>System properties {@value #GRAPHS} and {@value #PERMUTE} ({@code true} by default) choose whether each gear's
 * step is replayed as a captured CUDA graph and whether GEMV inputs are stored in their coalescing order;
 * {@value #ROWS_PER_WARP} (default 0: per matrix) how many rows a GEMV warp computes together; {@value #AFFINE_LOW}
 * ({@code true} by default) whether LOW GEMVs decode codes affinely (see the kernels); {@value #DEPENDENT_LAUNCH}
 * ({@code true} by default) whether kernels use programmatic dependent launch on cards that have it (compute
 * capability 9.0 and above); {@value #FUSED_NORM} ({@code true} by default) whether RMSNorms are folded into the
 * kernels around them; {@value #SLICED_NESTED} ({@code true} by default) whether LOW/MID GEMVs use the sliced
 * kernels with integer dot products where the per-matrix rule picks them ({@code true}: from the table that suits the
 * card, {@code registers} / {@code ring}: the H100's / the H200's table on any card, {@code false}: none);
 * {@value #PERSISTENT_LOW} ({@code off} by default, {@code r4d4}, {@code r4d2}, {@code r8d2}) whether a LOW step runs
 * all its layers in one persistent launch (an experiment, slower so far: see BENCHMARKS.md).
 */
public final class CudaBackendProvider implements BackendProvider {
    public static final String NAME = "cuda";
    /** System property: replay each gear's decode step as a CUDA graph ({@code true}/{@code false}). */
    public static final String GRAPHS = "gearbx.cuda.graphs";
    /** System property: store GEMV inputs in the coalescing order of their consumer ({@code true}/{@code false}). */
    public static final String PERMUTE = "gearbx.cuda.permute";
    /** System property: rows one GEMV warp computes together (1, 2, 4; 0 chooses per matrix). */
    public static final String ROWS_PER_WARP = "gearbx.cuda.rowsPerWarp";
    /**
     * System property: LOW GEMVs decode 4-bit codes as 1.5 + v / 16 and correct with the block's x sum
     * ({@code true}/{@code false}).
     */
    public static final String AFFINE_LOW = "gearbx.cuda.affineLow";
    /**
     * System property: launch kernels with programmatic dependent launch where the card has it, so each one is
     * scheduled (and a GEMV starts its weight loads) while the previous one ends ({@code true}/{@code false}).
     */
    public static final String DEPENDENT_LAUNCH = "gearbx.cuda.dependentLaunch";
    /**
     * System property: fold the RMSNorms into the embedding and GEMV kernels instead of launching one kernel per
     * norm ({@code true}/{@code false}).
     */
    public static final String FUSED_NORM = "gearbx.cuda.fusedNorm";
    /**
     * System property: LOW/MID GEMVs use the sliced kernels (a block of warps per group of rows, integer dot products
     * against x in 22-bit fixed point) where the per-matrix rule picks them ({@code true}/{@code false}).
     */
    public static final String SLICED_NESTED = "gearbx.cuda.slicedNested";
    /**
     * System property: run every layer of a LOW step in one persistent cooperative launch where the model and card
     * allow it ({@code off}, or the kernel's rows per chunk and ring depth: {@code r4d4}, {@code r4d2}, {@code r8d2}).
     */
    public static final String PERSISTENT_LOW = "gearbx.cuda.persistentLow";

    private static volatile @Nullable Availability probed;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int rank() {
        return 100;
    }

    @Override
    public Availability availability() {
        Availability a = probed;
        if (a == null) {
            a = probe();
            probed = a;
        }
        return a;
    }

    static Availability probe() {
        try {
            if (CudaDevice.ptx() == null) {
                return Availability.unusable("no PTX in the jar: gearbx-kernels-cuda was built without nvcc "
                        + "(the Maven profile 'nvcc' runs when /usr/local/cuda/bin/nvcc exists)");
            }
            int rc = JCudaDriver.cuInit(0);
            if (rc != CUresult.CUDA_SUCCESS) {
                return Availability.unusable("cuInit failed: " + CUresult.stringFor(rc) + " (no usable CUDA driver or device)");
            }
            int[] count = new int[1];
            rc = JCudaDriver.cuDeviceGetCount(count);
            if (rc != CUresult.CUDA_SUCCESS || count[0] == 0) {
                return Availability.unusable("no CUDA device (" + (rc != CUresult.CUDA_SUCCESS ? CUresult.stringFor(rc)
                        : "cuDeviceGetCount = 0") + ")");
            }
            CUdevice device = new CUdevice();
            JCudaDriver.cuDeviceGet(device, 0);
            int[] major = new int[1];
            int[] minor = new int[1];
            JCudaDriver.cuDeviceGetAttribute(major, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device);
            JCudaDriver.cuDeviceGetAttribute(minor, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device);
            byte[] name = new byte[256];
            JCudaDriver.cuDeviceGetName(name, name.length, device);
            String deviceName = new String(name, java.nio.charset.StandardCharsets.US_ASCII).trim().replace("\0", "");
            if (major[0] < 8) {
                return Availability.unusable("CUDA device 0 (" + deviceName + ") is compute capability " + major[0] + "."
                        + minor[0] + "; the kernels' PTX needs 8.0 or newer");
            }
            return Availability.usable("CUDA device 0: " + deviceName + " (compute " + major[0] + "." + minor[0]
                    + "), JCuda driver API");
        } catch (LinkageError e) {
            String detail = String.valueOf(e.getMessage()).lines().findFirst().orElse(e.toString());
            return Availability.unusable("no CUDA driver: JCuda's native library did not load (" + detail + ")");
        } catch (RuntimeException e) {
            return Availability.unusable("CUDA probe failed: " + e);
        }
    }

    @Override
    public Backend create() {
        return new CudaBackend(StepOptions.fromSystemProperties());
    }

    /** Opens device 0 on first use; every model loaded through it shares the device. */
    private static final class CudaBackend implements Backend {
        private final StepOptions options;
        private @Nullable CudaDevice device;

        CudaBackend(StepOptions options) {
            this.options = options;
        }

        @Override
        public String name() {
            return NAME;
        }

        private synchronized CudaDevice device() {
            if (device == null) {
                device = CudaDevice.open(0);
            }
            return device;
        }

        @Override
        public LoadedModel load(Path file, GearConfig gears) {
            CudaDevice d = device();
            LlamaModel host = LlamaModel.load(file, Kernels.scalar(), gears);
            try {
                return new CudaModel(d, host, options);
            } catch (RuntimeException | Error e) {
                host.close();
                throw e;
            }
        }
    }
}
