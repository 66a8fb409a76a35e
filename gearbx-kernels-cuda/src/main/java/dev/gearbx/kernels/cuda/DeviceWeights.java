package dev.gearbx.kernels.cuda;

import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.gear.GearConfig;
import dev.gearbx.engine.gear.GearFormat;
import dev.gearbx.engine.gear.Linear;
import dev.gearbx.engine.gguf.GgmlType;
import dev.gearbx.engine.model.LlamaModel;
import dev.gearbx.engine.model.LlamaWeights;
import dev.gearbx.engine.tensor.PackedFormat;
import dev.gearbx.engine.tensor.PackedMatrix;
import dev.gearbx.engine.tensor.WeightMatrix;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A model's weights on the device, uploaded once per format the gears need: the original (dense) weights once,
 * the nested LOW/MID planes once (LOW reads the scales and high plane of the same buffer MID reads whole). The
 * q/k/v projections of a block are fused into one matrix, as are gate/up, so a step is one GEMV each. Device
 * memory is accounted per gear ({@link #residentBytes(Gear)}) and per step ({@link #bytesReadPerToken(Gear)}).
 */
final class DeviceWeights implements AutoCloseable {

    /**
     * One block's matrices per gear, its norms, and the attention biases [q | k | v] when the model has them
     * (Qwen2), added to the fused q/k/v GEMV's output.
     */
    record Layer(Map<Gear, GearMatrix> qkv, Map<Gear, GearMatrix> wo, Map<Gear, GearMatrix> gateUp,
            Map<Gear, GearMatrix> down, DeviceBuffer attnNorm, DeviceBuffer ffnNorm, @Nullable DeviceBuffer qkvBias) {}

    private final CudaDevice device;
    private final DeviceShape shape;
    private final List<Layer> layers;
    private final GearMatrix embedding;
    private final Map<Gear, GearMatrix> output;
    private final DeviceBuffer outputNorm;
    private final DeviceBuffer ropeFrequencies;
    private final Map<DeviceBuffer, EnumSet<Gear>> buffers;
    private final String description;

    private DeviceWeights(CudaDevice device, DeviceShape shape, List<Layer> layers, GearMatrix embedding,
            Map<Gear, GearMatrix> output, DeviceBuffer outputNorm, Map<DeviceBuffer, EnumSet<Gear>> buffers,
            String description) {
        this.device = device;
        this.shape = shape;
        this.layers = List.copyOf(layers);
        this.embedding = embedding;
        this.output = new EnumMap<>(output);
        this.outputNorm = outputNorm;
        this.buffers = buffers;
        this.description = description;
        this.ropeFrequencies = device.alloc(4L * shape.ropeFrequencies().length, "rope frequencies");
        device.uploadFloats(ropeFrequencies, 0, shape.ropeFrequencies());
    }

    DeviceShape shape() {
        return shape;
    }

    List<Layer> layers() {
        return layers;
    }

    GearMatrix embedding() {
        return embedding;
    }

    GearMatrix output(Gear gear) {
        return output.get(gear);
    }

    DeviceBuffer outputNorm() {
        return outputNorm;
    }

    DeviceBuffer ropeFrequencies() {
        return ropeFrequencies;
    }

    String description() {
        return description;
    }

    /** Weight bytes one decode step at {@code gear} reads (every matrix once, one embedding row). */
    long bytesReadPerToken(Gear gear) {
        long bytes = output.get(gear).bytesRead() + (long) shape.dim() * embedding.view().elementBytes;
        for (Layer l : layers) {
            bytes += l.qkv.get(gear).bytesRead() + l.wo.get(gear).bytesRead() + l.gateUp.get(gear).bytesRead()
                    + l.down.get(gear).bytesRead();
        }
        return bytes;
    }

    /** Device bytes of the weight buffers that {@code gear} reads (a buffer shared by gears counts in each). */
    long residentBytes(Gear gear) {
        long sum = 0;
        for (Map.Entry<DeviceBuffer, EnumSet<Gear>> e : buffers.entrySet()) {
            if (e.getValue().contains(gear)) {
                sum += e.getKey().bytes();
            }
        }
        return sum;
    }

    /** Device bytes of all weight buffers, each counted once. */
    long residentBytes() {
        return buffers.keySet().stream().mapToLong(DeviceBuffer::bytes).sum();
    }

    @Override
    public void close() {
        for (DeviceBuffer b : buffers.keySet()) {
            device.free(b);
        }
        device.free(ropeFrequencies);
    }

    // ------------------------------------------------------------------------------------------------ from a model

    /**
     * Uploads a loaded model's weights for every gear. The gear formats must be ORIGINAL, NESTED_LOW or NESTED_MID;
     * original matrices of types other than F32/F16/BF16 are dequantized to F32 on upload.
     *
     * @throws CudaException naming the format or tensor the device cannot run
     */
    static DeviceWeights upload(CudaDevice device, LlamaModel model) {
        GearConfig config = model.precision().config();
        for (Gear g : Gear.values()) {
            GearFormat f = config.format(g);
            if (f != GearFormat.ORIGINAL && !f.nested()) {
                throw new CudaException("gear " + g + " uses format " + f + ", which the CUDA backend does not run "
                        + "(it runs ORIGINAL, NESTED_LOW and NESTED_MID)");
            }
            model.precision().prepare(g);
        }
        LlamaWeights w = model.weights();
        DeviceShape shape = DeviceShape.of(model);
        Uploader up = new Uploader(device, config);
        try {
            List<Layer> layers = new ArrayList<>();
            for (LlamaWeights.Layer l : w.layers()) {
                layers.add(new Layer(up.fused(List.of(l.wq(), l.wk(), l.wv())), up.fused(List.of(l.wo())),
                        up.fused(List.of(l.wGate(), l.wUp())), up.fused(List.of(l.wDown())),
                        up.floats(l.attnNorm(), "attn_norm"), up.floats(l.ffnNorm(), "ffn_norm"),
                        l.bq() == null && l.bk() == null && l.bv() == null ? null
                                : up.floats(Uploader.qkvBias(l, shape), "attn_qkv bias")));
            }
            GearMatrix embedding = up.dense(List.of(w.tokenEmbedding()), EnumSet.allOf(Gear.class), "token_embd");
            GearMatrix out = w.output() == w.tokenEmbedding() ? embedding
                    : up.dense(List.of(w.output()), EnumSet.allOf(Gear.class), "output");
            Map<Gear, GearMatrix> output = new EnumMap<>(Gear.class);
            for (Gear g : Gear.values()) {
                output.put(g, out);
            }
            return new DeviceWeights(device, shape, layers, embedding, output,
                    up.floats(w.outputNorm(), "output_norm"), up.buffers,
                    model.file().path().getFileName() + " uploaded (" + config.scope() + " managed, G="
                            + config.groupSize() + ")");
        } catch (RuntimeException | Error e) {
            for (DeviceBuffer b : up.buffers.keySet()) {
                device.free(b);
            }
            throw e;
        }
    }

    /** Uploads host matrices, once per source and format. */
    private static final class Uploader {
        final CudaDevice device;
        final GearConfig config;
        final Map<DeviceBuffer, EnumSet<Gear>> buffers = new LinkedHashMap<>();
        final Map<List<Object>, GearMatrix> cache = new HashMap<>();

        Uploader(CudaDevice device, GearConfig config) {
            this.device = device;
            this.config = config;
        }

        /** [bq | bk | bv] of a block, zeros for a missing part. */
        static float[] qkvBias(LlamaWeights.Layer l, DeviceShape s) {
            float[] b = new float[s.qDim() + 2 * s.kvDim()];
            if (l.bq() != null) {
                System.arraycopy(l.bq(), 0, b, 0, s.qDim());
            }
            if (l.bk() != null) {
                System.arraycopy(l.bk(), 0, b, s.qDim(), s.kvDim());
            }
            if (l.bv() != null) {
                System.arraycopy(l.bv(), 0, b, s.qDim() + s.kvDim(), s.kvDim());
            }
            return b;
        }

        DeviceBuffer floats(float[] v, String what) {
            DeviceBuffer b = device.alloc(4L * v.length, what);
            device.uploadFloats(b, 0, v);
            buffers.put(b, EnumSet.allOf(Gear.class));
            return b;
        }

        /** The parts stacked by rows, for every gear. */
        Map<Gear, GearMatrix> fused(List<Linear> parts) {
            Map<Gear, GearMatrix> byGear = new EnumMap<>(Gear.class);
            for (Gear g : Gear.values()) {
                List<WeightMatrix> ms = parts.stream().map(p -> p.at(g)).toList();
                boolean nested = ms.stream().allMatch(m -> m instanceof PackedMatrix p && p.format().isNested());
                boolean packed = ms.stream().anyMatch(m -> m instanceof PackedMatrix);
                String name = parts.getFirst().name();
                GearMatrix gm;
                if (nested) {
                    gm = nested(parts, g, name);
                } else if (packed) {
                    throw new CudaException("tensor '" + name + "' at gear " + g + ": the fused parts " + ms
                            + " mix packed and original formats");
                } else {
                    gm = dense(ms, EnumSet.of(g), name);
                }
                buffers.get(gm.buffer()).add(g);
                byGear.put(g, gm);
            }
            return byGear;
        }

        private GearMatrix nested(List<Linear> parts, Gear gear, String name) {
            boolean midNested = config.format(Gear.MID) == GearFormat.NESTED_MID;
            GearMatrix.View view = ((PackedMatrix) parts.getFirst().at(gear)).format() == PackedFormat.NESTED_LOW
                    ? GearMatrix.View.LOW : GearMatrix.View.MID;
            List<Object> key = new ArrayList<>(parts);
            key.add("nested");
            GearMatrix base = cache.get(key);
            if (base == null) {
                // the MID view spans the whole storage [scales | high | residual]; the LOW view only [scales | high]
                List<PackedMatrix> sources = parts.stream()
                        .map(p -> (PackedMatrix) (midNested ? p.at(Gear.MID) : p.at(gear))).toList();
                boolean withResidual = sources.getFirst().format() == PackedFormat.NESTED_MID;
                int cols = sources.getFirst().cols();
                int groupSize = sources.getFirst().groupSize();
                int rows = sources.stream().mapToInt(WeightMatrix::rows).sum();
                long groups = cols / groupSize;
                long scaleBytes = rows * groups * 2;
                long plane = (long) rows * cols / 2;
                long high = align(scaleBytes);
                long residual = high + align(plane);
                DeviceBuffer b = device.alloc(withResidual ? residual + plane : high + plane, name + " nested");
                buffers.put(b, EnumSet.noneOf(Gear.class));
                long rowsBefore = 0;
                for (PackedMatrix p : sources) {
                    if (p.cols() != cols || p.groupSize() != groupSize) {
                        throw new CudaException("tensor '" + name + "': fused parts differ in columns or group size");
                    }
                    MemorySegment seg = p.data();
                    long s = p.rows() * groups * 2;
                    long pl = (long) p.rows() * cols / 2;
                    device.upload(b, rowsBefore * groups * 2, seg.asSlice(0, s));
                    device.upload(b, high + rowsBefore * cols / 2, seg.asSlice(s, pl));
                    if (withResidual) {
                        device.upload(b, residual + rowsBefore * cols / 2, seg.asSlice(s + pl, pl));
                    }
                    rowsBefore += p.rows();
                }
                base = new GearMatrix(b, GearMatrix.View.MID, rows, cols, groupSize, high, withResidual ? residual : 0);
                cache.put(key, base);
            }
            if (view == GearMatrix.View.MID && base.residualOffset() == 0) {
                throw new CudaException("tensor '" + name + "': MID needs the residual plane, which was not uploaded");
            }
            return new GearMatrix(base.buffer(), view, base.rows(), base.cols(), base.groupSize(), base.highOffset(),
                    base.residualOffset());
        }

        /** Original matrices stacked by rows: F32/F16/BF16 as stored when all share the type, else F32. */
        GearMatrix dense(List<WeightMatrix> ms, EnumSet<Gear> gears, String name) {
            List<Object> key = new ArrayList<>(ms);
            key.add("dense");
            GearMatrix cached = cache.get(key);
            if (cached != null) {
                return cached;
            }
            GgmlType type = ms.getFirst().type();
            boolean asStored = (type == GgmlType.F32 || type == GgmlType.F16 || type == GgmlType.BF16)
                    && ms.stream().allMatch(m -> m.type() == type);
            GearMatrix.View view = !asStored ? GearMatrix.View.F32
                    : type == GgmlType.F32 ? GearMatrix.View.F32 : type == GgmlType.F16 ? GearMatrix.View.F16
                    : GearMatrix.View.BF16;
            int cols = ms.getFirst().cols();
            int rows = ms.stream().mapToInt(WeightMatrix::rows).sum();
            DeviceBuffer b = device.alloc((long) rows * cols * view.elementBytes, name + " " + view);
            buffers.put(b, EnumSet.copyOf(gears));
            long offset = 0;
            for (WeightMatrix m : ms) {
                if (m.cols() != cols) {
                    throw new CudaException("tensor '" + name + "': fused parts differ in columns");
                }
                if (asStored) {
                    device.upload(b, offset, m.data());
                    offset += m.byteSize();
                } else {
                    // dequantize to F32, about 64 MiB at a time
                    int chunkRows = Math.max(1, (int) Math.min(m.rows(), (16L << 20) / cols));
                    float[] buf = new float[chunkRows * cols];
                    for (int r0 = 0; r0 < m.rows(); r0 += chunkRows) {
                        int n = Math.min(chunkRows, m.rows() - r0);
                        for (int r = 0; r < n; r++) {
                            m.copyRow(r0 + r, buf, r * cols);
                        }
                        device.upload(b, offset, MemorySegment.ofArray(buf).asSlice(0, 4L * n * cols));
                        offset += 4L * n * cols;
                    }
                }
            }
            GearMatrix gm = new GearMatrix(b, view, rows, cols, 0, 0, 0);
            cache.put(key, gm);
            return gm;
        }
    }

    static long align(long bytes) {
        return (bytes + 255) & ~255L;
    }

    // ------------------------------------------------------------------------------------------------ synthetic

    /**
     * Random F16 weights made on the device (uniform in ±sqrt(3 / cols), so activations keep their scale), with the
     * nested planes quantized from them on the device by the CPU engine's rounding. For benchmarks of shapes too
     * large to build on the host. With {@code outputInGears} the output projection follows the gear too.
     */
    static DeviceWeights synthetic(CudaDevice device, DeviceShape s, int groupSize, long seed, boolean outputInGears) {
        Map<DeviceBuffer, EnumSet<Gear>> buffers = new LinkedHashMap<>();
        long[] counter = {seed};
        try {
            List<Layer> layers = new ArrayList<>();
            for (int l = 0; l < s.layers(); l++) {
                layers.add(new Layer(
                        synthetic(device, buffers, s.qDim() + 2 * s.kvDim(), s.dim(), groupSize, ++counter[0], true),
                        synthetic(device, buffers, s.dim(), s.qDim(), groupSize, ++counter[0], true),
                        synthetic(device, buffers, 2 * s.ffnDim(), s.dim(), groupSize, ++counter[0], true),
                        synthetic(device, buffers, s.dim(), s.ffnDim(), groupSize, ++counter[0], true),
                        ones(device, buffers, s.dim()), ones(device, buffers, s.dim()), null));
            }
            GearMatrix embedding = synthetic(device, buffers, s.vocabularySize(), s.dim(), groupSize, ++counter[0], false)
                    .get(Gear.HIGH);
            Map<Gear, GearMatrix> output = synthetic(device, buffers, s.vocabularySize(), s.dim(), groupSize,
                    ++counter[0], outputInGears);
            device.synchronize();
            return new DeviceWeights(device, s, layers, embedding, output, ones(device, buffers, s.dim()), buffers,
                    "synthetic on device (F16 HIGH, nested LOW/MID G=" + groupSize + ", output "
                            + (outputInGears ? "in the gears" : "F16 in every gear") + ")");
        } catch (RuntimeException | Error e) {
            for (DeviceBuffer b : buffers.keySet()) {
                device.free(b);
            }
            throw e;
        }
    }

    private static Map<Gear, GearMatrix> synthetic(CudaDevice device, Map<DeviceBuffer, EnumSet<Gear>> buffers,
            int rows, int cols, int groupSize, long seed, boolean geared) {
        long n = (long) rows * cols;
        DeviceBuffer dense = device.alloc(2 * n, "synthetic " + rows + "x" + cols + " F16");
        buffers.put(dense, geared ? EnumSet.of(Gear.HIGH) : EnumSet.allOf(Gear.class));
        float scale = (float) Math.sqrt(3.0 / cols);
        device.launch(Launch.of(device, "fill_random_f16", 4096, 256, dense, n, seed * 0x9E3779B97F4A7C15L, scale));
        GearMatrix high = new GearMatrix(dense, GearMatrix.View.F16, rows, cols, 0, 0, 0);
        Map<Gear, GearMatrix> byGear = new EnumMap<>(Gear.class);
        byGear.put(Gear.HIGH, high);
        if (!geared) {
            byGear.put(Gear.MID, high);
            byGear.put(Gear.LOW, high);
            return byGear;
        }
        long scaleBytes = n / groupSize * 2;
        long hi = align(scaleBytes);
        long res = hi + align(n / 2);
        DeviceBuffer nested = device.alloc(res + n / 2, "synthetic " + rows + "x" + cols + " nested");
        buffers.put(nested, EnumSet.of(Gear.LOW, Gear.MID));
        long threads = n / groupSize;
        device.launch(Launch.of(device, "quantize_nested", (int) ((threads + 255) / 256), 256, dense, rows, cols,
                groupSize, nested, hi, res));
        byGear.put(Gear.MID, new GearMatrix(nested, GearMatrix.View.MID, rows, cols, groupSize, hi, res));
        byGear.put(Gear.LOW, new GearMatrix(nested, GearMatrix.View.LOW, rows, cols, groupSize, hi, res));
        return byGear;
    }

    private static DeviceBuffer ones(CudaDevice device, Map<DeviceBuffer, EnumSet<Gear>> buffers, int n) {
        DeviceBuffer b = device.alloc(4L * n, "norm");
        float[] v = new float[n];
        java.util.Arrays.fill(v, 1f);
        device.uploadFloats(b, 0, v);
        buffers.put(b, EnumSet.allOf(Gear.class));
        return b;
    }
}
