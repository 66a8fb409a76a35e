package dev.gearbx.djl;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.gear.GearConfig;
import dev.gearbx.engine.gear.Linear;
import dev.gearbx.engine.gguf.GgufMetadata;
import dev.gearbx.engine.model.CausalModel;
import dev.gearbx.engine.model.LlamaConfig;
import dev.gearbx.engine.model.LlamaModel;
import dev.gearbx.engine.model.LlamaWeights;
import dev.gearbx.engine.model.ModelSequence;
import dev.gearbx.engine.model.RopeType;
import dev.gearbx.engine.tensor.Kernels;
import dev.gearbx.engine.tensor.WeightMatrix;
import dev.gearbx.engine.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A Llama-family model ({@code llama}, {@code qwen2}; from a GGUF file or a Hugging Face folder)
 * whose forward pass runs on libtorch tensors through DJL PyTorch, with a KV cache per sequence.
 * Weights are float32 tensors on the engine's default device (CPU from Maven Central's natives, a
 * GPU when DJL finds a CUDA libtorch). Gears work as on the CPU backend, by swapping weight
 * tensors: the LOW and MID formats of the managed layers are built by gearbx's precision manager,
 * dequantized once into their own tensors on first use (a dequantization cache), and each step
 * reads the tensors of its gear. Thread-safe; each sequence has its own state.
 *
 * <pre>{@code
 * try (DjlLlamaModel model = DjlLlamaModel.load(Path.of("stories260K.gguf"))) {
 *     GenerationResult r = new Generator(model).generate(GenerationRequest.builder("Once upon a time").build());
 * }
 * }</pre>
 */
public final class DjlLlamaModel implements CausalModel, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(DjlLlamaModel.class.getName());

    private final LlamaModel source;
    private final LlamaConfig config;
    private final NDManager manager;
    /** token embedding (vocab, dim), kept on the host as gearbx's matrix: a step copies one row */
    private final WeightMatrix embedding;
    /** output projection, transposed (dim, vocab) */
    private final NDArray outputT;
    /** (dim) per norm */
    private final NDArray outputNorm;
    private final NDArray[] attnNorm;
    private final NDArray[] ffnNorm;
    private final @Nullable NDArray[][] biases;
    /** dequantization cache: each matrix (of any gear) as a float32 tensor of its transpose (cols, rows) */
    private final Map<WeightMatrix, NDArray> tensors = new IdentityHashMap<>();
    private final float[] ropeFrequencies;

    private DjlLlamaModel(LlamaModel source, Device device) {
        this.source = source;
        this.config = source.config();
        this.manager = NDManager.newBaseManager(device, "PyTorch");
        LlamaWeights w = source.weights();
        this.embedding = w.tokenEmbedding();
        this.outputT = transposed(w.output());
        this.outputNorm = manager.create(w.outputNorm());
        int layers = config.layers();
        this.attnNorm = new NDArray[layers];
        this.ffnNorm = new NDArray[layers];
        this.biases = new NDArray[layers][];
        for (int l = 0; l < layers; l++) {
            LlamaWeights.Layer layer = w.layers()[l];
            attnNorm[l] = manager.create(layer.attnNorm());
            ffnNorm[l] = manager.create(layer.ffnNorm());
            biases[l] = new NDArray[] {optional(layer.bq()), optional(layer.bk()), optional(layer.bv())};
        }
        this.ropeFrequencies = source.ropeFrequencies();
    }

    /** Loads a GGUF file or a Hugging Face folder with the default gears, on the engine's default device. */
    public static DjlLlamaModel load(Path path) {
        return load(path, GearConfig.DEFAULT);
    }

    /**
     * Loads a GGUF file or a Hugging Face folder on the PyTorch engine's default device.
     *
     * @throws dev.gearbx.engine.GearbxException (a subclass) if the model is malformed or unsupported
     */
    public static DjlLlamaModel load(Path path, GearConfig gears) {
        LlamaModel source = LlamaModel.load(path, Kernels.scalar(), gears);
        try {
            Device device = Engine.getEngine("PyTorch").defaultDevice();
            DjlLlamaModel m = new DjlLlamaModel(source, device);
            LOG.log(System.Logger.Level.DEBUG, () -> "loaded " + path + " on libtorch " + Engine.getEngine("PyTorch").getVersion()
                    + ", device " + device);
            return m;
        } catch (RuntimeException | Error e) {
            source.close();
            throw e;
        }
    }

    private @Nullable NDArray optional(float @Nullable [] v) {
        return v == null ? null : manager.create(v);
    }

    /** The matrix as a contiguous float32 tensor of its transpose (cols, rows), built on first use. */
    private NDArray transposed(WeightMatrix m) {
        synchronized (tensors) {
            NDArray t = tensors.get(m);
            if (t == null) {
                int rows = m.rows();
                int cols = m.cols();
                // transposed on the host into a contiguous (cols, rows) tensor: x (1, cols) @ t
                float[] values = new float[Math.multiplyExact(rows, cols)];
                float[] row = new float[cols];
                for (int r = 0; r < rows; r++) {
                    m.copyRow(r, row, 0);
                    for (int c = 0; c < cols; c++) {
                        values[c * rows + r] = row[c];
                    }
                }
                t = manager.create(values, new Shape(cols, rows));
                tensors.put(m, t);
            }
            return t;
        }
    }

    /** The weight tensor of {@code linear} at {@code gear} (built on first use). */
    NDArray weight(Linear linear, Gear gear) {
        return transposed(linear.at(gear));
    }

    @Override
    public LlamaConfig config() {
        return config;
    }

    @Override
    public Tokenizer tokenizer() {
        return source.tokenizer();
    }

    @Override
    public GgufMetadata metadata() {
        return source.metadata();
    }

    /** The CPU model the weights come from (its precision manager builds the LOW/MID formats). */
    public LlamaModel source() {
        return source;
    }

    /** The device the tensors live on. */
    public Device device() {
        return manager.getDevice();
    }

    @Override
    public ModelSequence newSequence(int capacity) {
        if (capacity < 1 || capacity > config.contextLength()) {
            throw new IllegalArgumentException("sequence capacity must be in 1.." + config.contextLength()
                    + " (the model's context length), got " + capacity);
        }
        return new Sequence(capacity);
    }

    @Override
    public void close() {
        manager.close();
        source.close();
    }

    /** One sequence: its KV cache tensors live in their own manager, freed by {@link #close()}. */
    private final class Sequence implements ModelSequence {
        private final NDManager seq = manager.newSubManager();
        private final int capacity;
        /** (layer) -> (capacity, kvHeads, headDim) */
        private final NDArray[] keys;
        private final NDArray[] values;
        private final float[] row;
        private final float[] cos;
        private final float[] sin;
        private int position;
        private Gear gear = Gear.HIGH;
        private boolean closed;

        Sequence(int capacity) {
            this.capacity = capacity;
            LlamaConfig c = config;
            keys = new NDArray[c.layers()];
            values = new NDArray[c.layers()];
            for (int l = 0; l < c.layers(); l++) {
                keys[l] = seq.zeros(new Shape(capacity, c.kvHeads(), c.headDim()));
                values[l] = seq.zeros(new Shape(capacity, c.kvHeads(), c.headDim()));
            }
            row = new float[c.dim()];
            cos = new float[ropeFrequencies.length];
            sin = new float[ropeFrequencies.length];
        }

        @Override
        public float[] forward(int token) {
            return step(token, true);
        }

        @Override
        public void ingest(int token) {
            step(token, false);
        }

        private float[] step(int token, boolean logits) {
            LlamaConfig c = config;
            if (closed) {
                throw new IllegalStateException("the sequence is closed");
            }
            if (token < 0 || token >= c.vocabularySize()) {
                throw new IllegalArgumentException("token id " + token + " is outside the vocabulary of " + c.vocabularySize());
            }
            if (position >= capacity) {
                throw new dev.gearbx.engine.model.ContextOverflowException(capacity, position + 1);
            }
            int pos = position;
            for (int i = 0; i < ropeFrequencies.length; i++) {
                double angle = (double) pos * ropeFrequencies[i];
                cos[i] = (float) Math.cos(angle);
                sin[i] = (float) Math.sin(angle);
            }
            LlamaWeights w = source.weights();
            float[] out = null;
            try (NDManager step = seq.newSubManager()) {
                NDArray cosT = step.create(cos);
                NDArray sinT = step.create(sin);
                // x = token embedding (1, dim)
                embedding.copyRow(token, row, 0);
                NDArray x = step.create(row, new Shape(1, c.dim()));
                float scale = (float) (1.0 / Math.sqrt(c.headDim()));
                for (int l = 0; l < c.layers(); l++) {
                    LlamaWeights.Layer layer = w.layers()[l];
                    NDArray xb = rmsnorm(x, attnNorm[l], c.rmsEps());
                    // q (1, qDim), k and v (1, kvDim)
                    NDArray q = xb.matMul(weight(layer.wq(), gear));
                    NDArray k = xb.matMul(weight(layer.wk(), gear));
                    NDArray v = xb.matMul(weight(layer.wv(), gear));
                    NDArray[] b = biases[l];
                    if (b[0] != null) {
                        q = q.add(b[0]);
                    }
                    if (b[1] != null) {
                        k = k.add(b[1]);
                    }
                    if (b[2] != null) {
                        v = v.add(b[2]);
                    }
                    // rotate the first rotaryDim dims of every head: (heads, headDim)
                    q = rope(q.reshape(c.heads(), c.headDim()), cosT, sinT);
                    k = rope(k.reshape(c.kvHeads(), c.headDim()), cosT, sinT);
                    // append to the cache at pos
                    keys[l].set(new ai.djl.ndarray.index.NDIndex(pos), k);
                    values[l].set(new ai.djl.ndarray.index.NDIndex(pos), v.reshape(c.kvHeads(), c.headDim()));
                    // grouped-query attention: q (kvHeads, group, headDim) against keys (kvHeads, headDim, t)
                    NDArray kt = keys[l].get(step, new ai.djl.ndarray.index.NDIndex(":{}", pos + 1)).transpose(1, 2, 0);
                    NDArray vt = values[l].get(step, new ai.djl.ndarray.index.NDIndex(":{}", pos + 1)).transpose(1, 0, 2);
                    NDArray scores = q.reshape(c.kvHeads(), c.groupSize(), c.headDim()).matMul(kt).mul(scale).softmax(-1);
                    NDArray att = scores.matMul(vt).reshape(1, c.qDim());
                    // x += Wo att
                    x = x.add(att.matMul(weight(layer.wo(), gear)));
                    // SwiGLU feed-forward: x += Wdown (silu(Wgate xb) * Wup xb)
                    xb = rmsnorm(x, ffnNorm[l], c.rmsEps());
                    NDArray gate = xb.matMul(weight(layer.wGate(), gear));
                    NDArray up = xb.matMul(weight(layer.wUp(), gear));
                    NDArray h = gate.mul(gate.getNDArrayInternal().sigmoid()).mul(up);
                    x = x.add(h.matMul(weight(layer.wDown(), gear)));
                }
                if (logits) {
                    out = rmsnorm(x, outputNorm, c.rmsEps()).matMul(outputT).toFloatArray();
                }
            }
            position++;
            return out == null ? new float[0] : out;
        }

        /** rmsnorm(x) * weight over the last axis. */
        private NDArray rmsnorm(NDArray x, NDArray weight, float eps) {
            NDArray ms = x.mul(x).mean(new int[] {-1}, true).add(eps);
            return x.div(ms.sqrt()).mul(weight);
        }

        /** RoPE on (heads, headDim) at the current position; cos/sin are (rotaryDim / 2). */
        private NDArray rope(NDArray x, NDArray cosT, NDArray sinT) {
            LlamaConfig c = config;
            int rot = c.rotaryDim();
            int half = rot / 2;
            NDArray rotated;
            NDArray pass = rot < c.headDim() ? x.get(":, {}:", rot) : null;
            if (c.ropeType() == RopeType.NEOX) {
                // pairs (i, i + rot/2)
                NDArray a = x.get(":, :{}", half);
                NDArray b = x.get(":, {}:{}", half, rot);
                rotated = a.mul(cosT).sub(b.mul(sinT)).concat(b.mul(cosT).add(a.mul(sinT)), 1);
            } else {
                // pairs (2i, 2i + 1)
                NDArray pairs = (rot < c.headDim() ? x.get(":, :{}", rot) : x).reshape(x.getShape().get(0), half, 2);
                NDArray a = pairs.get(":, :, 0");
                NDArray b = pairs.get(":, :, 1");
                rotated = a.mul(cosT).sub(b.mul(sinT)).stack(a.mul(sinT).add(b.mul(cosT)), 2)
                        .reshape(x.getShape().get(0), rot);
            }
            return pass == null ? rotated : rotated.concat(pass, 1);
        }

        @Override
        public void shift(Gear gear) {
            this.gear = Objects.requireNonNull(gear, "gear");
        }

        @Override
        public int position() {
            return position;
        }

        @Override
        public int capacity() {
            return capacity;
        }

        @Override
        public void rewind(int n) {
            if (n < 0 || n > position) {
                throw new IllegalArgumentException("cannot rewind " + n + " positions from position " + position);
            }
            position -= n;
        }

        @Override
        public long kvCacheBytes() {
            return closed ? 0 : 2L * config.layers() * capacity * config.kvDim() * Float.BYTES;
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                seq.close();
            }
        }
    }
}
