package dev.gearbx.kernels.cuda;

import dev.gearbx.engine.gear.Gear;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import jcuda.driver.CUgraphExec;
import org.jspecify.annotations.Nullable;

/**
 * The decode step of one sequence on the device: activations, KV cache (float32, per layer) and the step's
 * launches, built once per gear. The position and the input token live in device memory ({@code ctrl}), and a
 * step with logits ends with sampling (greedy or top-k, {@link DeviceSampling}) and the entropy on the device,
 * which writes the next input token itself: steps can run back to back with nothing crossing to the host. Token
 * ids, entropies and log probabilities accumulate in device rings indexed by position, read back in batches
 * ({@link #results}). Optionally each gear's step with logits is captured once as a CUDA graph and replayed. Not
 * thread-safe.
 */
final class DeviceDecoder implements AutoCloseable {
    /** Partial sums of squares per RMSNorm in the fused-norm programs (NORM_SLOTS in gearbx.cu). */
    private static final int NORM_SLOTS = 32;
    private static final long NORM_BYTES = 8L * NORM_SLOTS;
    private final CudaDevice device;
    private final DeviceWeights weights;
    private final int capacity;
    private final StepOptions options;
    private final DeviceSampling sampling;
    private final List<DeviceBuffer> owned = new ArrayList<>();
    private final DeviceBuffer x;
    private final DeviceBuffer xb;
    private final DeviceBuffer qkv;
    private final DeviceBuffer att;
    private final DeviceBuffer hb;
    private final DeviceBuffer logits;
    private final DeviceBuffer ctrl;
    private final DeviceBuffer samplePartials;
    private final DeviceBuffer sampleCounter;
    private final DeviceBuffer norms;
    private final @Nullable DeviceBuffer candidates;
    private final @Nullable DeviceBuffer uniforms;
    private final DeviceBuffer tokens;
    private final DeviceBuffer entropies;
    private final DeviceBuffer logProbabilities;
    private final DeviceBuffer[] keyCache;
    private final DeviceBuffer[] valueCache;
    /** The persistent LOW kernel this decoder's LOW steps use, or null (see {@link #persistentLow}). */
    private final StepOptions.@Nullable PersistentLow persistent;
    /** Its layer table (PLayer in gearbx.cu), or null. */
    private final @Nullable DeviceBuffer layerTable;
    /** Why LOW steps do not use the persistent kernel the options ask for ("" when they do or don't ask). */
    private final String persistentAbsence;
    private final Map<Gear, List<Launch>> withLogits = new EnumMap<>(Gear.class);
    private final Map<Gear, List<Launch>> withoutLogits = new EnumMap<>(Gear.class);
    private final Map<Gear, CUgraphExec> captured = new EnumMap<>(Gear.class);
    private int position;

    /** A decoder that samples greedily. */
    DeviceDecoder(CudaDevice device, DeviceWeights weights, int capacity, StepOptions options) {
        this(device, weights, capacity, options, DeviceSampling.GREEDY);
    }

    /**
     * @param capacity most positions this sequence holds
     * @param options graphs, input order, rows per warp
     * @param sampling how each step with logits picks its token (greedy, or top-k with uniforms set through
     *     {@link #setUniforms})
     */
    DeviceDecoder(CudaDevice device, DeviceWeights weights, int capacity, StepOptions options,
            DeviceSampling sampling) {
        DeviceShape s = weights.shape();
        if (capacity < 1 || capacity > s.contextLength()) {
            throw new IllegalArgumentException("sequence capacity must be in 1.." + s.contextLength()
                    + " (the model's context length), got " + capacity);
        }
        this.device = device;
        this.weights = weights;
        this.capacity = capacity;
        this.options = options;
        this.sampling = sampling;
        if (!sampling.greedy() && DeviceSampling.blocks(s.vocabularySize()) > DeviceSampling.MAX_BLOCKS) {
            throw new IllegalArgumentException("device top-k sampling takes vocabularies up to "
                    + DeviceSampling.MAX_BLOCKS * DeviceSampling.SLICE + " tokens, got " + s.vocabularySize());
        }
        if (s.headDim() > 256) {
            throw new CudaException("head width " + s.headDim() + " is above the attention kernel's limit of 256");
        }
        try {
            x = buffer(4L * s.dim(), "x");
            xb = buffer(4L * Math.max(s.dim(), s.qDim()), "xb");
            qkv = buffer(4L * (s.qDim() + 2 * s.kvDim()), "qkv");
            att = buffer(4L * s.qDim(), "att");
            hb = buffer(4L * s.ffnDim(), "hb");
            logits = buffer(4L * s.vocabularySize(), "logits");
            ctrl = buffer(16, "ctrl");
            samplePartials = buffer(36L * Math.max(sampleBlocks(), DeviceSampling.blocks(s.vocabularySize())),
                    "sampling partials");
            sampleCounter = buffer(16, "sampling counter");
            // the sums of each norm's squares, and one more slot set holding the persistent kernel's barrier counter
            // (embed_norm zeroes all but norm 0's at the start of every step)
            norms = buffer(8L * NORM_SLOTS * (2 * s.layers() + 2), "RMSNorm sums of squares");
            candidates = sampling.greedy() ? null
                    : buffer(8L * sampling.topK() * DeviceSampling.blocks(s.vocabularySize()), "top-k candidates");
            uniforms = sampling.greedy() ? null : buffer(8L * capacity, "sampling uniforms");
            tokens = buffer(4L * capacity, "token ring");
            entropies = buffer(4L * capacity, "entropy ring");
            logProbabilities = buffer(4L * capacity, "log-probability ring");
            keyCache = new DeviceBuffer[s.layers()];
            valueCache = new DeviceBuffer[s.layers()];
            for (int l = 0; l < s.layers(); l++) {
                keyCache[l] = buffer(4L * capacity * s.kvDim(), "key cache " + l);
                valueCache[l] = buffer(4L * capacity * s.kvDim(), "value cache " + l);
            }
            persistentAbsence = options.wantsPersistentLow() ? persistentLowAbsence() : "";
            persistent = options.wantsPersistentLow() && persistentAbsence.isEmpty() ? options.persistentLow() : null;
            layerTable = persistent == null ? null : layerTable();
            for (DeviceBuffer b : owned) {
                device.zero(b);
            }
            if (layerTable != null) {
                device.upload(layerTable, 0, layerTableBytes());
            }
            for (Gear g : Gear.values()) {
                withLogits.put(g, program(g, true));
                withoutLogits.put(g, program(g, false));
            }
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    private DeviceBuffer buffer(long bytes, String what) {
        DeviceBuffer b = device.alloc(bytes, what);
        owned.add(b);
        return b;
    }

    /** Device bytes of this sequence's KV cache. */
    long kvCacheBytes() {
        DeviceShape s = weights.shape();
        return 2L * s.layers() * capacity * s.kvDim() * 4;
    }

    int capacity() {
        return capacity;
    }

    /** Position of the next step (tokens already in the KV cache). */
    int position() {
        return position;
    }

    private List<Launch> program(Gear gear, boolean computeLogits) {
        return options.fusedNorm() ? fusedNormProgram(gear, computeLogits) : normKernelProgram(gear, computeLogits);
    }

    /**
     * The step with the RMSNorms folded into the kernels around them: {@code embed_norm} writes x, the first norm's
     * weighted input u = x * w and sum x^2 (norm 0; each norm has NORM_SLOTS partial sums); each residual GEMV
     * writes the next norm's u into xb and adds its squares to the next norm's sums; each GEMV reading xb scales
     * its dots by that norm (see GemvNorm in gearbx.cu). 5 launches per layer instead of 7.
     */
    private List<Launch> fusedNormProgram(Gear gear, boolean computeLogits) {
        DeviceShape s = weights.shape();
        List<Launch> p = new ArrayList<>();
        boolean pm = options.permute();
        StepOptions o = options;
        float eps = s.rmsEps();
        long normBase = norms.pointer().address();
        GearMatrix e = weights.embedding();
        GearMatrix out = weights.output(gear);
        int layers = s.layers();
        p.add(Launch.of(device, "embed_norm", 1, 1024, e.buffer(), e.view().denseType(), ctrl, x, s.dim(),
                weights.layers().get(0).attnNorm(), xb, weights.layers().get(0).qkv().get(gear).xChunk(pm), norms,
                2 * layers + 2));
        long xbAddress = xb.pointer().address();
        StepOptions.PersistentLow pl = persistent;
        int launchedLayers = layers;
        if (gear == Gear.LOW && pl != null) {
            p.add(persistentLayers(pl, weights.layers().get(0).qkv().get(gear).xChunk(pm), out.xChunk(pm)));
            launchedLayers = 0;
        }
        for (int l = 0; l < launchedLayers; l++) {
            DeviceWeights.Layer w = weights.layers().get(l);
            GearMatrix qkvW = w.qkv().get(gear);
            GearMatrix wo = w.wo().get(gear);
            GearMatrix gateUp = w.gateUp().get(gear);
            GearMatrix down = w.down().get(gear);
            boolean lastLayer = l == layers - 1;
            DeviceBuffer nextNorm = lastLayer ? weights.outputNorm() : weights.layers().get(l + 1).attnNorm();
            int nextChunk = lastLayer ? out.xChunk(pm) : weights.layers().get(l + 1).qkv().get(gear).xChunk(pm);
            p.add(qkvW.gemv(device, xb, qkv, 0, 4, o,
                    new GearMatrix.NormLink(normBase + NORM_BYTES * (2 * l), eps, 0L, 0L, 0L, 4).withBias(bias(w))));
            p.add(attention(l, wo.xChunk(pm)));
            p.add(wo.gemv(device, att, x, 1, 4, o, new GearMatrix.NormLink(0L, eps, w.ffnNorm().pointer().address(),
                    xbAddress, normBase + NORM_BYTES * (2 * l + 1), gateUp.xChunk(pm))));
            p.add(gateUp.gemv(device, xb, hb, 2, down.xChunk(pm), o,
                    new GearMatrix.NormLink(normBase + NORM_BYTES * (2 * l + 1), eps, 0L, 0L, 0L, 4)));
            p.add(down.gemv(device, hb, x, 1, 4, o, new GearMatrix.NormLink(0L, eps, nextNorm.pointer().address(),
                    xbAddress, normBase + NORM_BYTES * (2 * l + 2), nextChunk)));
        }
        if (computeLogits) {
            p.add(out.gemv(device, xb, logits, 0, 4, o,
                    new GearMatrix.NormLink(normBase + NORM_BYTES * (2 * layers), eps, 0L, 0L, 0L, 4)));
            p.add(sampleLaunch());
        } else {
            p.add(Launch.of(device, "advance", 1, 32, ctrl));
        }
        return p;
    }

    /** The step with one RMSNorm kernel per norm. */
    private List<Launch> normKernelProgram(Gear gear, boolean computeLogits) {
        DeviceShape s = weights.shape();
        List<Launch> p = new ArrayList<>();
        GearMatrix e = weights.embedding();
        p.add(Launch.of(device, "embed", (s.dim() + 255) / 256, 256, e.buffer(), e.view().denseType(), ctrl, x, s.dim()));
        boolean pm = options.permute();
        StepOptions o = options;
        for (int l = 0; l < s.layers(); l++) {
            DeviceWeights.Layer w = weights.layers().get(l);
            GearMatrix qkvW = w.qkv().get(gear);
            GearMatrix wo = w.wo().get(gear);
            GearMatrix gateUp = w.gateUp().get(gear);
            GearMatrix down = w.down().get(gear);
            p.add(Launch.of(device, "rmsnorm", 1, 1024, x, w.attnNorm(), xb, s.dim(), s.rmsEps(), qkvW.xChunk(pm)));
            p.add(qkvW.gemv(device, xb, qkv, 0, 4, o, GearMatrix.NormLink.NONE.withBias(bias(w))));
            p.add(attention(l, wo.xChunk(pm)));
            p.add(wo.gemv(device, att, x, 1, 4, o));
            p.add(Launch.of(device, "rmsnorm", 1, 1024, x, w.ffnNorm(), xb, s.dim(), s.rmsEps(), gateUp.xChunk(pm)));
            p.add(gateUp.gemv(device, xb, hb, 2, down.xChunk(pm), o));
            p.add(down.gemv(device, hb, x, 1, 4, o));
        }
        if (computeLogits) {
            GearMatrix out = weights.output(gear);
            p.add(Launch.of(device, "rmsnorm", 1, 1024, x, weights.outputNorm(), xb, s.dim(), s.rmsEps(), out.xChunk(pm)));
            p.add(out.gemv(device, xb, logits, 0, 4, o));
            p.add(sampleLaunch());
        } else {
            p.add(Launch.of(device, "advance", 1, 32, ctrl));
        }
        return p;
    }

    /** Bytes of one layer's entry in the persistent kernel's table (PLayer in gearbx.cu). */
    static final int LAYER_ENTRY_BYTES = 192;
    /** Widest row the persistent kernel takes: 16 warps of 32 lanes x 32 weights. */
    static final int PERSISTENT_MAX_COLS = 16 * 1024;

    /**
     * Why this model and card cannot run the persistent LOW kernel ("" when they can): every layer's LOW matrices
     * must be nested with rows of a multiple of 32 and at most {@link #PERSISTENT_MAX_COLS} weights and a group size
     * of 32, 64 or 128, and the card must take cooperative launches with a block resident on each multiprocessor.
     */
    private String persistentLowAbsence() {
        if (!device.cooperativeLaunch()) {
            return device.name() + " does not take cooperative launches";
        }
        for (int l = 0; l < weights.layers().size(); l++) {
            DeviceWeights.Layer w = weights.layers().get(l);
            for (GearMatrix m : lowMatrices(w)) {
                if (m.view() != GearMatrix.View.LOW) {
                    return "layer " + l + " has a LOW matrix read as " + m.view();
                }
                if (m.cols() % 32 != 0 || m.cols() > PERSISTENT_MAX_COLS) {
                    return "layer " + l + " has rows of " + m.cols() + " weights (the persistent kernel takes multiples"
                            + " of 32 up to " + PERSISTENT_MAX_COLS + ")";
                }
                if (m.groupSize() != 32 && m.groupSize() != 64 && m.groupSize() != 128) {
                    return "layer " + l + " has LOW groups of " + m.groupSize() + " weights (32, 64 or 128 supported)";
                }
            }
        }
        StepOptions.PersistentLow pl = options.persistentLow();
        String kernel = java.util.Objects.requireNonNull(pl.kernel);
        int shared = pl.sharedBytes(weights.layers().size());
        if (device.residentBlocks(kernel, StepOptions.PersistentLow.THREADS, shared) < 1) {
            return "no block of " + kernel + " (" + shared + " bytes of shared memory) fits a multiprocessor";
        }
        return "";
    }

    /** Why LOW steps do not use the persistent kernel that the options ask for ("" when they do or don't ask). */
    String persistentLowAbsenceReason() {
        return persistentAbsence;
    }

    /** Whether this decoder's LOW steps run their layers in one persistent launch. */
    boolean persistentLow() {
        return persistent != null;
    }

    /** A layer's LOW matrices in the persistent kernel's order: q/k/v, o, [gate; up], down. */
    private static List<GearMatrix> lowMatrices(DeviceWeights.Layer w) {
        return List.of(w.qkv().get(Gear.LOW), w.wo().get(Gear.LOW), w.gateUp().get(Gear.LOW), w.down().get(Gear.LOW));
    }

    private DeviceBuffer layerTable() {
        return buffer((long) LAYER_ENTRY_BYTES * weights.layers().size(), "persistent layer table");
    }

    /** The layer table: per layer 4 matrices {base, high offset, rows, cols, group size, 0}, norms, bias, caches. */
    private MemorySegment layerTableBytes() {
        List<DeviceWeights.Layer> layers = weights.layers();
        MemorySegment t = Arena.ofAuto().allocate((long) LAYER_ENTRY_BYTES * layers.size(), 16);
        for (int l = 0; l < layers.size(); l++) {
            DeviceWeights.Layer w = layers.get(l);
            long at = (long) LAYER_ENTRY_BYTES * l;
            List<GearMatrix> ms = lowMatrices(w);
            for (int k = 0; k < 4; k++) {
                GearMatrix m = ms.get(k);
                long mt = at + 32L * k;
                t.set(ValueLayout.JAVA_LONG, mt, m.buffer().pointer().address());
                t.set(ValueLayout.JAVA_LONG, mt + 8, m.highOffset());
                t.set(ValueLayout.JAVA_INT, mt + 16, m.rows());
                t.set(ValueLayout.JAVA_INT, mt + 20, m.cols());
                t.set(ValueLayout.JAVA_INT, mt + 24, m.groupSize());
            }
            DeviceBuffer next = l + 1 < layers.size() ? layers.get(l + 1).attnNorm() : weights.outputNorm();
            t.set(ValueLayout.JAVA_LONG, at + 128, w.ffnNorm().pointer().address());
            t.set(ValueLayout.JAVA_LONG, at + 136, next.pointer().address());
            t.set(ValueLayout.JAVA_LONG, at + 144, bias(w));
            t.set(ValueLayout.JAVA_LONG, at + 152, keyCache[l].pointer().address());
            t.set(ValueLayout.JAVA_LONG, at + 160, valueCache[l].pointer().address());
        }
        return t;
    }

    /**
     * Every layer of a LOW step in one cooperative launch of the persistent kernel, one block per multiprocessor
     * (or as many as fit); {@code chunk} is the order the nested GEMVs read their inputs in, {@code lastChunk} the
     * order the output GEMV reads the last norm's output in.
     */
    private Launch persistentLayers(StepOptions.PersistentLow pl, int chunk, int lastChunk) {
        DeviceShape s = weights.shape();
        String kernel = java.util.Objects.requireNonNull(pl.kernel);
        int shared = pl.sharedBytes(s.layers());
        int grid = device.multiprocessors() * device.residentBlocks(kernel, StepOptions.PersistentLow.THREADS, shared);
        return Launch.cooperative(device, kernel, grid, StepOptions.PersistentLow.THREADS, shared,
                java.util.Objects.requireNonNull(layerTable), s.layers(), x, xb, qkv, att, hb, ctrl,
                weights.ropeFrequencies(), norms, s.rmsEps(), s.heads(), s.kvHeads(), s.headDim(), s.rotaryDim(),
                s.neox() ? 1 : 0, capacity, (float) (1.0 / Math.sqrt(s.headDim())), chunk, lastChunk);
    }

    /** Threads of an attention block (one block per query head; gearbx.cu uses at most 16 warps of them). */
    static final int ATTENTION_THREADS = 512;

    /** RoPE, the KV cache store and attention of layer {@code l} in one launch; output stored for {@code outChunk}. */
    private Launch attention(int l, int outChunk) {
        DeviceShape s = weights.shape();
        return Launch.of(device, "attention", s.heads(), ATTENTION_THREADS, qkv, keyCache[l], valueCache[l], att, ctrl,
                weights.ropeFrequencies(), s.heads(), s.kvHeads(), s.headDim(), s.rotaryDim(), s.neox() ? 1 : 0,
                capacity, (float) (1.0 / Math.sqrt(s.headDim())), outChunk);
    }

    /** Device address of a block's [q | k | v] attention biases, or 0 when it has none. */
    private static long bias(DeviceWeights.Layer w) {
        DeviceBuffer b = w.qkvBias();
        return b == null ? 0L : b.pointer().address();
    }

    /** The step's last launch with logits: greedy or top-k sampling and the entropy. */
    private Launch sampleLaunch() {
        DeviceShape s = weights.shape();
        if (sampling.greedy()) {
            return Launch.of(device, "sample_greedy", sampleBlocks(), 256, logits, s.vocabularySize(), ctrl, tokens,
                    entropies, logProbabilities, samplePartials, sampleCounter);
        }
        return Launch.of(device, "sample_topk", DeviceSampling.blocks(s.vocabularySize()), 256, logits,
                s.vocabularySize(), ctrl, tokens, entropies, logProbabilities, samplePartials, sampleCounter,
                java.util.Objects.requireNonNull(candidates), java.util.Objects.requireNonNull(uniforms),
                sampling.topK(), 1f / sampling.temperature(), sampling.minP(), sampling.topP());
    }

    /** Blocks of the sampling kernel: about 1024 logits each, at most 128. */
    private int sampleBlocks() {
        return greedyBlocks(weights.shape().vocabularySize());
    }

    /** Blocks of {@code sample_greedy} for a vocabulary of {@code vocabularySize}. */
    static int greedyBlocks(int vocabularySize) {
        return Math.clamp((vocabularySize + 1023) / 1024, 1, 128);
    }

    /** The launches of a step with logits at {@code gear}, in order (for benchmarks that time parts of it). */
    List<Launch> launches(Gear gear) {
        return List.copyOf(withLogits.get(gear));
    }

    /** Kernel launches of one step (for reports). */
    int launchesPerStep() {
        return withLogits.get(Gear.HIGH).size();
    }

    /** Sets the token the next step reads (stream-ordered). */
    void setToken(int token) {
        if (token < 0 || token >= weights.shape().vocabularySize()) {
            throw new IllegalArgumentException("token id " + token + " is outside the vocabulary of "
                    + weights.shape().vocabularySize());
        }
        device.writeInts(ctrl, 1, new int[] {token});
    }

    /**
     * Sets the uniform draws of the steps at positions {@code from, from + 1, ...} (top-k sampling only; a step at
     * position p samples with uniform p).
     */
    void setUniforms(int from, double[] values) {
        DeviceBuffer u = uniforms;
        if (u == null) {
            throw new IllegalStateException("this decoder samples greedily; it takes no uniforms");
        }
        if (from < 0 || from + values.length > capacity) {
            throw new IllegalArgumentException("uniforms for positions [" + from + ", " + (from + values.length)
                    + ") are outside [0, " + capacity + ")");
        }
        device.uploadDoubles(u, 8L * from, values);
    }

    /** Moves the sequence to {@code position} (0 starts over; the cache beyond it is overwritten by later steps). */
    void setPosition(int position) {
        if (position < 0 || position > capacity) {
            throw new IllegalArgumentException("position must be in 0.." + capacity + ", got " + position);
        }
        device.writeInts(ctrl, 0, new int[] {position});
        this.position = position;
    }

    /**
     * Queues one step at {@code gear}. With logits it ends by sampling greedily on the device (the sampled token
     * becomes the next step's input unless {@link #setToken} says otherwise); without, it only fills the KV cache.
     */
    void step(Gear gear, boolean computeLogits) {
        if (position >= capacity) {
            throw new dev.gearbx.engine.model.ContextOverflowException(capacity, position + 1);
        }
        if (computeLogits && options.graphs()) {
            CUgraphExec g = captured.get(gear);
            if (g == null) {
                List<Launch> launches = withLogits.get(gear);
                g = device.capture(() -> launches.forEach(l -> device.launch(l, options.dependentLaunch())));
                captured.put(gear, g);
            }
            device.launch(g);
        } else {
            for (Launch l : (computeLogits ? withLogits : withoutLogits).get(gear)) {
                device.launch(l, options.dependentLaunch());
            }
        }
        position++;
    }

    /**
     * Waits for the queued steps and reads the results of positions {@code [from, to)} (steps with logits).
     */
    Results results(int from, int to) {
        if (from < 0 || to > position || from > to) {
            throw new IllegalArgumentException("result range [" + from + ", " + to + ") is outside [0, " + position + ")");
        }
        int n = to - from;
        int[] t = new int[n];
        float[] h = new float[n];
        float[] lp = new float[n];
        if (n > 0) {
            device.readInts(tokens, from, t, n);
            device.readFloats(entropies, from, h, n);
            device.readFloats(logProbabilities, from, lp, n);
        }
        return new Results(t, h, lp);
    }

    /** Waits for the queued steps and copies the last step's logits. */
    float[] logits() {
        float[] out = new float[weights.shape().vocabularySize()];
        device.readFloats(logits, 0, out, out.length);
        return out;
    }

    /**
     * Results of consecutive steps.
     *
     * @param tokens sampled token of each step
     * @param entropies entropy in bits of each step's logits (NaN when they held NaN or infinity)
     * @param logProbabilities natural log of each sampled token's probability (under the untempered softmax)
     */
    record Results(int[] tokens, float[] entropies, float[] logProbabilities) {}

    @Override
    public void close() {
        for (CUgraphExec g : captured.values()) {
            device.destroy(g);
        }
        captured.clear();
        for (DeviceBuffer b : owned) {
            device.free(b);
        }
    }

    @Nullable CUgraphExec graph(Gear gear) {
        return captured.get(gear);
    }
}
