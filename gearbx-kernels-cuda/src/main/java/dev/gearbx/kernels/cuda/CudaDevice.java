package dev.gearbx.kernels.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUevent;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import jcuda.driver.CUstreamCaptureMode;
import jcuda.driver.JCudaDriver;
import org.jspecify.annotations.Nullable;

/**
 * One CUDA device through JCuda's driver API: a context, the gearbx kernels module (PTX from the jar), one
 * stream, and the device memory allocated through it (counted). Every driver call's result is checked; a
 * failure throws {@link CudaException} naming the call. The context is made current on the calling thread by
 * {@link #bind()}, which every public entry point of the backend calls first.
 */
final class CudaDevice implements AutoCloseable {
    /** Class-path resource holding the kernels' PTX (built by the Maven profile {@code nvcc}). */
    static final String PTX_RESOURCE = "/dev/gearbx/kernels/cuda/gearbx.ptx";
    /**
     * The same kernels built for compute capability 9.0 with the dependent-launch handshake; loaded instead of
     * {@link #PTX_RESOURCE} on such cards.
     */
    static final String PTX_SM90_RESOURCE = "/dev/gearbx/kernels/cuda/gearbx-sm90.ptx";
    /**
     * System property naming a PTX file to load instead of the jar's (kernel experiments: variants built with other
     * {@code -D} settings compared in one run); dependent launch is used when it holds the sm_90 handshake.
     */
    static final String PTX_FILE = "gearbx.cuda.ptxFile";

    private final CUcontext context = new CUcontext();
    private final CUmodule module = new CUmodule();
    private final RawHandles.Stream stream = new RawHandles.Stream();
    private final Map<String, RawHandles.Function> functions = new HashMap<>();
    /** Dynamic shared memory each kernel was allowed above the default (guarded by {@code functions}). */
    private final Map<String, Integer> sharedAllowed = new HashMap<>();
    private final String ptxResource;
    private final boolean dependentLaunch;
    private final String dependentLaunchAbsence;
    private final String name;
    private final int computeMajor;
    private final int computeMinor;
    private final int multiprocessors;
    private final boolean cooperativeLaunch;
    private final double dramBytesPerCycle;
    private final long totalMemory;
    private final AtomicLong allocated = new AtomicLong();
    private boolean closed;

    private CudaDevice(int ordinal) {
        check(JCudaDriver.cuInit(0), "cuInit");
        CUdevice device = new CUdevice();
        check(JCudaDriver.cuDeviceGet(device, ordinal), "cuDeviceGet(" + ordinal + ")");
        byte[] nameBytes = new byte[256];
        check(JCudaDriver.cuDeviceGetName(nameBytes, nameBytes.length, device), "cuDeviceGetName");
        int len = 0;
        while (len < nameBytes.length && nameBytes[len] != 0) {
            len++;
        }
        name = new String(nameBytes, 0, len, java.nio.charset.StandardCharsets.US_ASCII);
        computeMajor = attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
        computeMinor = attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
        multiprocessors = attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
        cooperativeLaunch = attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COOPERATIVE_LAUNCH) != 0;
        dramBytesPerCycle = dramBytesPerCycle(device, multiprocessors);
        long[] total = new long[1];
        check(JCudaDriver.cuDeviceTotalMem(total, device), "cuDeviceTotalMem");
        totalMemory = total[0];
        check(JCudaDriver.cuCtxCreate(context, 0, device), "cuCtxCreate");
        String override = System.getProperty(PTX_FILE);
        byte[] sm90;
        byte[] ptx;
        if (override != null) {
            ptx = readPtxFile(override);
            sm90 = computeMajor >= 9 && new String(ptx, java.nio.charset.StandardCharsets.US_ASCII)
                    .contains("griddepcontrol.wait") ? ptx : null;
            ptxResource = override;
        } else {
            sm90 = computeMajor >= 9 ? resource(PTX_SM90_RESOURCE) : null;
            ptx = sm90 != null ? sm90 : ptx();
            ptxResource = sm90 != null ? PTX_SM90_RESOURCE : PTX_RESOURCE;
        }
        dependentLaunch = sm90 != null && DependentLaunch.available();
        dependentLaunchAbsence = dependentLaunch ? ""
                : computeMajor < 9 ? "compute capability " + computeCapability() + " is below 9.0"
                : sm90 == null ? "no " + PTX_SM90_RESOURCE + " in the jar"
                : DependentLaunch.unavailableReason();
        if (ptx == null) {
            JCudaDriver.cuCtxDestroy(context);
            throw new CudaException("no PTX at " + PTX_RESOURCE + " (gearbx-kernels-cuda was built without nvcc)");
        }
        byte[] terminated = java.util.Arrays.copyOf(ptx, ptx.length + 1);
        check(JCudaDriver.cuModuleLoadData(module, terminated), "cuModuleLoadData(" + ptxResource + ")");
        check(JCudaDriver.cuStreamCreate(stream, 0), "cuStreamCreate");
    }

    /** Opens device {@code ordinal}; the context stays current on the calling thread. */
    static CudaDevice open(int ordinal) {
        return new CudaDevice(ordinal);
    }

    /** The PTX bytes, or null when the jar has none. */
    static byte @Nullable [] ptx() {
        return resource(PTX_RESOURCE);
    }

    private byte[] readPtxFile(String file) {
        try {
            return java.nio.file.Files.readAllBytes(java.nio.file.Path.of(file));
        } catch (IOException | RuntimeException e) {
            JCudaDriver.cuCtxDestroy(context);
            throw new CudaException("cannot read the PTX file " + file + " named by -D" + PTX_FILE + ": " + e);
        }
    }

    private static byte @Nullable [] resource(String name) {
        try (InputStream in = CudaDevice.class.getResourceAsStream(name)) {
            return in == null ? null : in.readAllBytes();
        } catch (IOException e) {
            return null;
        }
    }

    static void check(int result, String call) {
        if (result != CUresult.CUDA_SUCCESS) {
            throw new CudaException(call + " failed: " + CUresult.stringFor(result) + " (" + result + ")");
        }
    }

    /**
     * Peak DRAM bytes per multiprocessor per SM clock cycle (memory clock x 2 (double data rate) x bus width / 8,
     * divided by SMs x SM clock), or 0 where the driver does not report the clocks. An H200 reports 18.4; an H100 SXM's
     * data-sheet clocks (2,619 MHz x 5,120 bits, 132 SMs at 1,980 MHz) give 12.8, an A100's 13.1.
     */
    private static double dramBytesPerCycle(CUdevice device, int multiprocessors) {
        int[] memKhz = new int[1];
        int[] busBits = new int[1];
        int[] smKhz = new int[1];
        if (JCudaDriver.cuDeviceGetAttribute(memKhz, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE, device)
                != CUresult.CUDA_SUCCESS
                || JCudaDriver.cuDeviceGetAttribute(busBits,
                        CUdevice_attribute.CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH, device) != CUresult.CUDA_SUCCESS
                || JCudaDriver.cuDeviceGetAttribute(smKhz, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_CLOCK_RATE, device)
                        != CUresult.CUDA_SUCCESS
                || smKhz[0] <= 0 || multiprocessors <= 0) {
            return 0;
        }
        // bytes per second over SM cycles per second
        return 2.0 * memKhz[0] * (busBits[0] / 8.0) / ((double) smKhz[0] * multiprocessors);
    }

    private static int attribute(CUdevice device, int attribute) {
        int[] v = new int[1];
        check(JCudaDriver.cuDeviceGetAttribute(v, attribute, device), "cuDeviceGetAttribute(" + attribute + ")");
        return v[0];
    }

    /** Makes this device's context current on the calling thread. */
    void bind() {
        check(JCudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent");
    }

    String name() {
        return name;
    }

    String computeCapability() {
        return computeMajor + "." + computeMinor;
    }

    /** Streaming multiprocessors of the card. */
    int multiprocessors() {
        return multiprocessors;
    }

    /** Peak DRAM bytes per multiprocessor per SM clock cycle (0 where the driver does not say). */
    double dramBytesPerCycle() {
        return dramBytesPerCycle;
    }

    /** Whether the card takes cooperative launches (all blocks of a grid resident at once). */
    boolean cooperativeLaunch() {
        return cooperativeLaunch;
    }

    /**
     * Blocks of {@code kernel} that fit on one multiprocessor at once with {@code block} threads and
     * {@code sharedBytes} of dynamic shared memory (0 when none does).
     */
    int residentBlocks(String kernel, int block, int sharedBytes) {
        RawHandles.Function f = function(kernel);
        allowSharedMemory(kernel, f, sharedBytes);
        int[] n = new int[1];
        check(JCudaDriver.cuOccupancyMaxActiveBlocksPerMultiprocessor(n, f, block, sharedBytes),
                "cuOccupancyMaxActiveBlocksPerMultiprocessor(" + kernel + ", " + block + " threads, " + sharedBytes
                        + " bytes of shared memory)");
        return n[0];
    }

    long totalMemory() {
        return totalMemory;
    }

    /** Bytes allocated through this device and not yet freed. */
    long allocatedBytes() {
        return allocated.get();
    }

    CUstream stream() {
        return stream;
    }

    long streamAddress() {
        return stream.address();
    }

    /** The PTX resource loaded (the sm_90 build on cards of compute capability 9.0 and above). */
    String ptxResource() {
        return ptxResource;
    }

    /**
     * Whether launches can use programmatic dependent launch: the sm_90 PTX is loaded (its kernels wait for
     * their predecessor) and {@code cuLaunchKernelEx} is bound ({@link DependentLaunch}).
     */
    boolean dependentLaunch() {
        return dependentLaunch;
    }

    /** Why {@link #dependentLaunch()} is false (empty when it is true). */
    String dependentLaunchAbsence() {
        return dependentLaunchAbsence;
    }

    RawHandles.Function function(String kernel) {
        synchronized (functions) {
            return functions.computeIfAbsent(kernel, k -> {
                RawHandles.Function f = new RawHandles.Function();
                check(JCudaDriver.cuModuleGetFunction(f, module, k), "cuModuleGetFunction(" + k + ")");
                return f;
            });
        }
    }

    /**
     * Lets {@code function} take {@code bytes} of dynamic shared memory per block: above the default 48 KiB a kernel
     * must opt in (cuFuncSetAttribute), once for the largest amount its launches use.
     */
    void allowSharedMemory(String kernel, RawHandles.Function function, int bytes) {
        if (bytes <= 48 * 1024) {
            return;
        }
        synchronized (functions) {
            Integer allowed = sharedAllowed.get(kernel);
            if (allowed == null || allowed < bytes) {
                check(JCudaDriver.cuFuncSetAttribute(function,
                        jcuda.driver.CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes),
                        "cuFuncSetAttribute(" + kernel + ", max dynamic shared memory " + bytes + " bytes)");
                sharedAllowed.put(kernel, bytes);
            }
        }
    }

    /** Allocates {@code bytes} of device memory; {@code what} names it in the error. */
    DeviceBuffer alloc(long bytes, String what) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("device buffer '" + what + "' must have a positive size, got " + bytes);
        }
        RawHandles.DevicePointer p = new RawHandles.DevicePointer();
        check(JCudaDriver.cuMemAlloc(p, bytes), "cuMemAlloc(" + bytes + " bytes for " + what + ", "
                + allocated.get() + " already allocated)");
        allocated.addAndGet(bytes);
        return new DeviceBuffer(p, bytes, what);
    }

    void free(DeviceBuffer b) {
        if (b.free()) {
            check(JCudaDriver.cuMemFree(b.pointer()), "cuMemFree(" + b.what() + ")");
            allocated.addAndGet(-b.bytes());
        }
    }

    /** Copies {@code src} (host memory of any kind) to {@code dst + offset}, in chunks of at most 1 GiB. */
    void upload(DeviceBuffer dst, long offset, MemorySegment src) {
        if (offset < 0 || offset + src.byteSize() > dst.bytes()) {
            throw new IllegalArgumentException("upload of " + src.byteSize() + " bytes at offset " + offset
                    + " overflows device buffer '" + dst.what() + "' of " + dst.bytes() + " bytes");
        }
        long chunk = 1L << 30;
        for (long at = 0; at < src.byteSize(); at += chunk) {
            long n = Math.min(chunk, src.byteSize() - at);
            MemorySegment part = src.asSlice(at, n);
            Pointer host;
            if (part.isNative()) {
                host = Pointer.to(part.asByteBuffer());
            } else {
                ByteBuffer copy = ByteBuffer.allocateDirect((int) n);
                copy.put(part.asByteBuffer());
                copy.flip();
                host = Pointer.to(copy);
            }
            check(JCudaDriver.cuMemcpyHtoD(dst.pointer().withByteOffset(offset + at), host, n),
                    "cuMemcpyHtoD(" + n + " bytes to " + dst.what() + ")");
        }
    }

    void uploadDoubles(DeviceBuffer dst, long offset, double[] src) {
        if (src.length == 0) {
            return;
        }
        check(JCudaDriver.cuMemcpyHtoD(dst.pointer().withByteOffset(offset), Pointer.to(src), (long) src.length * 8),
                "cuMemcpyHtoD(" + src.length + " doubles to " + dst.what() + ")");
    }

    void uploadFloats(DeviceBuffer dst, long offset, float[] src) {
        check(JCudaDriver.cuMemcpyHtoD(dst.pointer().withByteOffset(offset), Pointer.to(src), (long) src.length * 4),
                "cuMemcpyHtoD(" + src.length + " floats to " + dst.what() + ")");
    }

    /**
     * Writes {@code values} at int index {@code index} of {@code dst}, ordered after the work queued on the stream
     * (a synchronous copy: the stream is a blocking one, so it waits for the stream and the stream for it).
     */
    void writeInts(DeviceBuffer dst, int index, int[] values) {
        check(JCudaDriver.cuMemcpyHtoD(dst.pointer().withByteOffset(4L * index), Pointer.to(values), 4L * values.length),
                "cuMemcpyHtoD(" + dst.what() + ")");
    }

    /** Waits for the stream, then copies {@code count} ints from int index {@code index} of {@code src}. */
    void readInts(DeviceBuffer src, int index, int[] dst, int count) {
        synchronize();
        check(JCudaDriver.cuMemcpyDtoH(Pointer.to(dst), src.pointer().withByteOffset(4L * index), 4L * count),
                "cuMemcpyDtoH(" + src.what() + ")");
    }

    /** Waits for the stream, then copies {@code count} floats from float index {@code index} of {@code src}. */
    void readFloats(DeviceBuffer src, int index, float[] dst, int count) {
        synchronize();
        check(JCudaDriver.cuMemcpyDtoH(Pointer.to(dst), src.pointer().withByteOffset(4L * index), 4L * count),
                "cuMemcpyDtoH(" + src.what() + ")");
    }

    void zero(DeviceBuffer b) {
        check(JCudaDriver.cuMemsetD8Async(b.pointer(), (byte) 0, b.bytes(), stream), "cuMemsetD8Async(" + b.what() + ")");
    }

    void synchronize() {
        check(JCudaDriver.cuStreamSynchronize(stream), "cuStreamSynchronize");
    }

    /**
     * Queues one kernel launch on the stream, with programmatic dependent launch when {@code dependent} and the
     * launch was prepared for it.
     */
    void launch(Launch l, boolean dependent) {
        DependentLaunch.Prepared p = l.dependent();
        if (dependent && p != null) {
            check(DependentLaunch.launch(p), "cuLaunchKernelEx(" + l.kernel() + ", grid " + l.grid() + ", block "
                    + l.block() + ", programmatic dependent launch)");
        } else {
            launch(l);
        }
    }

    /** Queues one kernel launch on the stream (in plain stream order). */
    void launch(Launch l) {
        if (l.cooperative()) {
            check(JCudaDriver.cuLaunchCooperativeKernel(l.function(), l.grid(), 1, 1, l.block(), 1, 1, l.sharedBytes(),
                            stream, l.parameters()),
                    "cuLaunchCooperativeKernel(" + l.kernel() + ", grid " + l.grid() + ", block " + l.block() + ")");
            return;
        }
        check(JCudaDriver.cuLaunchKernel(l.function(), l.grid(), 1, 1, l.block(), 1, 1, l.sharedBytes(), stream,
                        l.parameters(), null),
                "cuLaunchKernel(" + l.kernel() + ", grid " + l.grid() + ", block " + l.block() + ")");
    }

    /** Captures {@code body}'s launches on the stream into an instantiated graph. */
    CUgraphExec capture(Runnable body) {
        check(JCudaDriver.cuStreamBeginCapture(stream, CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL),
                "cuStreamBeginCapture");
        CUgraph graph = new CUgraph();
        try {
            body.run();
        } finally {
            check(JCudaDriver.cuStreamEndCapture(stream, graph), "cuStreamEndCapture");
        }
        CUgraphExec exec = new CUgraphExec();
        check(JCudaDriver.cuGraphInstantiate(exec, graph, 0), "cuGraphInstantiate");
        check(JCudaDriver.cuGraphDestroy(graph), "cuGraphDestroy");
        return exec;
    }

    void launch(CUgraphExec graph) {
        check(JCudaDriver.cuGraphLaunch(graph, stream), "cuGraphLaunch");
    }

    void destroy(CUgraphExec graph) {
        check(JCudaDriver.cuGraphExecDestroy(graph), "cuGraphExecDestroy");
    }

    /** Milliseconds the stream took for {@code body}'s work, measured with events (synchronizes). */
    float time(Runnable body) {
        CUevent start = new CUevent();
        CUevent stop = new CUevent();
        check(JCudaDriver.cuEventCreate(start, 0), "cuEventCreate");
        check(JCudaDriver.cuEventCreate(stop, 0), "cuEventCreate");
        try {
            check(JCudaDriver.cuEventRecord(start, stream), "cuEventRecord");
            body.run();
            check(JCudaDriver.cuEventRecord(stop, stream), "cuEventRecord");
            check(JCudaDriver.cuEventSynchronize(stop), "cuEventSynchronize");
            float[] ms = new float[1];
            check(JCudaDriver.cuEventElapsedTime(ms, start, stop), "cuEventElapsedTime");
            return ms[0];
        } finally {
            JCudaDriver.cuEventDestroy(start);
            JCudaDriver.cuEventDestroy(stop);
        }
    }

    /** Device-to-device copy on the stream. */
    void copy(DeviceBuffer dst, DeviceBuffer src, long bytes) {
        check(JCudaDriver.cuMemcpyDtoDAsync(dst.pointer(), src.pointer(), bytes, stream), "cuMemcpyDtoDAsync");
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            JCudaDriver.cuCtxDestroy(context);
        }
    }
}
