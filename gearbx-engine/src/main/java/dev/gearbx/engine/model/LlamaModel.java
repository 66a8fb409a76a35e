package dev.gearbx.engine.model;

import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.gear.GearConfig;
import dev.gearbx.engine.gear.MemoryReport;
import dev.gearbx.engine.gear.PrecisionManager;
import java.util.EnumMap;
import dev.gearbx.engine.gguf.GgufFile;
import dev.gearbx.engine.gguf.GgufMetadata;
import dev.gearbx.engine.gguf.TensorFile;
import dev.gearbx.engine.hf.HfModelFolder;
import java.nio.file.Files;
import dev.gearbx.engine.tensor.Kernels;
import dev.gearbx.engine.tensor.WeightMatrix;
import dev.gearbx.engine.tokenizer.Tokenizer;
import dev.gearbx.engine.tokenizer.Tokenizers;
import java.nio.file.Path;

/**
 * A loaded Llama-family model (GGUF architectures {@code llama} and {@code qwen2}): configuration,
 * tokenizer and weights mapped from the file, and the forward pass. The path is a GGUF file or a
 * Hugging Face model folder (config.json, safetensors, tokenizer.json; see {@link HfModelFolder}). Immutable and safe to share
 * between threads; each sequence has its own {@link LlamaState}.
 *
 * <pre>{@code
 * try (LlamaModel model = LlamaModel.load(Path.of("stories260K.gguf"))) {
 *     LlamaState state = model.newState(256);
 *     float[] logits = null;
 *     for (int token : model.tokenizer().encode("Once upon a time")) {
 *         logits = model.forward(state, token);
 *     }
 * }
 * }</pre>
 */
public final class LlamaModel implements CausalModel, AutoCloseable {
    private final TensorFile gguf;
    private final LlamaConfig config;
    private final Tokenizer tokenizer;
    private final LlamaWeights weights;
    private final Kernels kernels;
    /** RoPE frequency of each rotated pair, radians per position, scaling applied (rotaryDim / 2) */
    private final float[] ropeFrequencies;

    private final PrecisionManager precision;

    private LlamaModel(TensorFile gguf, LlamaConfig config, Tokenizer tokenizer, LlamaWeights weights, Kernels kernels,
            PrecisionManager precision) {
        this.gguf = gguf;
        this.precision = precision;
        this.config = config;
        this.tokenizer = tokenizer;
        this.weights = weights;
        this.kernels = kernels;
        this.ropeFrequencies = ropeFrequencies(gguf, config);
    }

    /** Loads a GGUF file or a Hugging Face folder with the preferred kernels and the default gear configuration. */
    public static LlamaModel load(Path path) {
        return load(path, Kernels.preferred(), GearConfig.DEFAULT);
    }

    /** Loads a GGUF model with the default gear configuration. */
    public static LlamaModel load(Path path, Kernels kernels) {
        return load(path, kernels, GearConfig.DEFAULT);
    }

    /**
     * Loads a GGUF file, or a Hugging Face model folder when {@code path} is a directory; {@code
     * gears} says which linear layers follow the gear and in which formats.
     *
     * @throws dev.gearbx.engine.gguf.GgufFormatException if the file is malformed
     * @throws dev.gearbx.engine.hf.HfFormatException if a file of the folder is malformed or unsupported
     * @throws dev.gearbx.engine.gguf.GgufMetadataException if metadata is missing or inconsistent
     * @throws ModelFormatException if tensors are missing, mis-shaped or of an unsupported type
     */
    public static LlamaModel load(Path path, Kernels kernels, GearConfig gears) {
        TensorFile gguf = Files.isDirectory(path) ? HfModelFolder.open(path) : GgufFile.open(path);
        PrecisionManager precision = new PrecisionManager(gears);
        try {
            Tokenizer tokenizer = Tokenizers.fromGguf(gguf.metadata());
            LlamaConfig config = LlamaConfig.fromGguf(gguf.metadata(), tokenizer.vocabularySize());
            if (gguf.halfRotationLayout()) {
                config = config.withRopeType(RopeType.NEOX);
            }
            LlamaWeights weights = LlamaWeights.fromGguf(gguf, config).mapLinears(precision::manage);
            return new LlamaModel(gguf, config, tokenizer, weights, kernels, precision);
        } catch (RuntimeException | Error e) {
            precision.close();
            gguf.close();
            throw e;
        }
    }

    @Override
    public LlamaConfig config() {
        return config;
    }

    @Override
    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public LlamaWeights weights() {
        return weights;
    }

    /** The model's files: a {@link GgufFile} or a Hugging Face {@link HfModelFolder}. */
    public TensorFile file() {
        return gguf;
    }

    public Kernels kernels() {
        return kernels;
    }

    /**
     * RoPE frequency of each rotated pair of a head, radians per position ({@code rotaryDim / 2} values, the
     * file's scaling applied): the angle of pair {@code i} at position {@code p} is {@code p * f[i]}, computed in
     * double. A copy, for other backends that must rotate exactly as this forward pass does.
     */
    public float[] ropeFrequencies() {
        return ropeFrequencies.clone();
    }

    /** The precision manager: managed layers, their formats, memory. */
    public PrecisionManager precision() {
        return precision;
    }

    /** Memory held by the weights, and bytes read per token at each gear (formats not yet built count as original). */
    public MemoryReport memory() {
        EnumMap<Gear, Long> perToken = new EnumMap<>(Gear.class);
        for (Gear g : Gear.values()) {
            perToken.put(g, weights.bytesReadPerToken(g));
        }
        long heap = (long) weights.outputNorm().length * Float.BYTES;
        for (LlamaWeights.Layer l : weights.layers()) {
            heap += (long) (l.attnNorm().length + l.ffnNorm().length) * Float.BYTES;
            for (float[] b : new float[][] {l.bq(), l.bk(), l.bv()}) {
                heap += b == null ? 0 : (long) b.length * Float.BYTES;
            }
        }
        return new MemoryReport(gguf.fileSize(), precision.offHeapByGear(), heap, perToken);
    }

    /**
     * A fresh sequence state holding up to {@code capacity} tokens.
     *
     * @throws IllegalArgumentException if capacity is not in 1..contextLength
     */
    public LlamaState newState(int capacity) {
        if (capacity < 1 || capacity > config.contextLength()) {
            throw new IllegalArgumentException("state capacity must be in 1.." + config.contextLength()
                    + " (the model's context length), got " + capacity);
        }
        return new LlamaState(config, capacity);
    }

    @Override
    public GgufMetadata metadata() {
        return gguf.metadata();
    }

    @Override
    public ModelSequence newSequence(int capacity) {
        LlamaState s = newState(capacity);
        return new ModelSequence() {
            @Override
            public float[] forward(int token) {
                return LlamaModel.this.forward(s, token);
            }

            @Override
            public void ingest(int token) {
                LlamaModel.this.ingest(s, token);
            }

            @Override
            public void shift(Gear gear) {
                s.shift(gear);
            }

            @Override
            public int position() {
                return s.position();
            }

            @Override
            public int capacity() {
                return s.capacity();
            }

            @Override
            public void rewind(int n) {
                s.rewind(n);
            }

            @Override
            public long kvCacheBytes() {
                return s.kvCacheBytes();
            }
        };
    }

    /** Runs one token through the model at the state's position and returns the logits (vocab). */
    public float[] forward(LlamaState s, int token) {
        step(s, token, true);
        return s.logits;
    }

    /** Like {@link #forward} but skips the output projection (prompt tokens whose logits nobody reads). */
    public void ingest(LlamaState s, int token) {
        step(s, token, false);
    }

    private void step(LlamaState s, int token, boolean computeLogits) {
        LlamaConfig c = config;
        if (token < 0 || token >= c.vocabularySize()) {
            throw new IllegalArgumentException("token id " + token + " is outside the vocabulary of " + c.vocabularySize());
        }
        if (s.position >= s.capacity) {
            throw new ContextOverflowException(s.capacity, s.position + 1);
        }
        Kernels k = kernels;
        int pos = s.position;
        int kvDim = c.kvDim();
        int headDim = c.headDim();
        boolean neox = c.ropeType() == RopeType.NEOX;
        float attScale = (float) (1.0 / Math.sqrt(headDim));
        // rotation angles of this position, one per rotated pair
        for (int i = 0; i < ropeFrequencies.length; i++) {
            double angle = (double) pos * ropeFrequencies[i];
            s.cos[i] = (float) Math.cos(angle);
            s.sin[i] = (float) Math.sin(angle);
        }
        // x = token embedding (dim)
        weights.tokenEmbedding().copyRow(token, s.x, 0);
        Gear gear = s.gear;
        WeightMatrix[] qkv = s.qkvMatrices;
        float[][] qkvOut = s.qkvOut;
        WeightMatrix[] gateUp = s.gateUpMatrices;
        float[][] gateUpOut = s.gateUpOut;
        for (int l = 0; l < c.layers(); l++) {
            LlamaWeights.Layer w = weights.layers()[l];
            // attention rmsnorm: xb = rmsnorm(x) * attnNorm
            k.rmsnorm(s.xb, s.x, w.attnNorm(), c.dim(), c.rmsEps());
            // q = Wq xb (qDim), k = Wk xb (kvDim), v = Wv xb (kvDim), in one dispatch
            qkv[0] = w.wq().at(gear);
            qkv[1] = w.wk().at(gear);
            qkv[2] = w.wv().at(gear);
            k.matvecs(qkv, s.xb, qkvOut);
            if (w.bq() != null) {
                k.add(s.q, w.bq(), c.qDim());
            }
            if (w.bk() != null) {
                k.add(s.k, w.bk(), kvDim);
            }
            if (w.bv() != null) {
                k.add(s.v, w.bv(), kvDim);
            }
            // rotate the first rotaryDim dims of every query and key head
            k.rope(s.q, c.heads(), headDim, c.rotaryDim(), s.cos, s.sin, neox);
            k.rope(s.k, c.kvHeads(), headDim, c.rotaryDim(), s.cos, s.sin, neox);
            // append k, v to the cache at pos: cache (capacity, kvDim)
            float[] keys = s.keyCache[l];
            float[] values = s.valueCache[l];
            System.arraycopy(s.k, 0, keys, pos * kvDim, kvDim);
            System.arraycopy(s.v, 0, values, pos * kvDim, kvDim);
            // grouped-query attention: query head h reads KV head h / groupSize
            for (int h = 0; h < c.heads(); h++) {
                int qOff = h * headDim;
                int kvOff = (h / c.groupSize()) * headDim;
                // scores[t] = q_h . k_t / sqrt(headDim) for t <= pos
                for (int t = 0; t <= pos; t++) {
                    s.scores[t] = k.dot(s.q, qOff, keys, t * kvDim + kvOff, headDim) * attScale;
                }
                k.softmax(s.scores, 0, pos + 1);
                // att_h = sum_t scores[t] * v_t
                java.util.Arrays.fill(s.att, qOff, qOff + headDim, 0f);
                for (int t = 0; t <= pos; t++) {
                    k.axpy(s.att, qOff, s.scores[t], values, t * kvDim + kvOff, headDim);
                }
            }
            // x += Wo att
            k.matvec(w.wo().at(gear), s.att, s.xb);
            k.add(s.x, s.xb, c.dim());
            // ffn rmsnorm: xb = rmsnorm(x) * ffnNorm
            k.rmsnorm(s.xb, s.x, w.ffnNorm(), c.dim(), c.rmsEps());
            // hb = Wgate xb, hb2 = Wup xb (ffnDim), in one dispatch
            gateUp[0] = w.wGate().at(gear);
            gateUp[1] = w.wUp().at(gear);
            k.matvecs(gateUp, s.xb, gateUpOut);
            // SwiGLU: hb = silu(hb) * hb2
            k.siluMul(s.hb, s.hb2, c.ffnDim());
            // x += Wdown hb
            k.matvec(w.wDown().at(gear), s.hb, s.xb);
            k.add(s.x, s.xb, c.dim());
        }
        s.position++;
        if (computeLogits) {
            // logits = Wout rmsnorm(x) * outputNorm (vocab)
            k.rmsnorm(s.x, s.x, weights.outputNorm(), c.dim(), c.rmsEps());
            k.matvec(weights.output(), s.x, s.logits);
        }
    }

    /** Frequencies theta^(-2i/rotaryDim), with llama-3/linear scaling or the file's rope_freqs factors. */
    private static float[] ropeFrequencies(TensorFile gguf, LlamaConfig c) {
        int half = c.rotaryDim() / 2;
        float[] factors = null;
        if (gguf.findTensor("rope_freqs.weight").isPresent()) {
            factors = LlamaWeights.vector(gguf, "rope_freqs.weight", half);
        }
        float[] freqs = new float[half];
        RopeScaling scaling = c.ropeScaling();
        for (int i = 0; i < half; i++) {
            double f = Math.pow(c.ropeTheta(), -2.0 * i / c.rotaryDim());
            if (factors != null) {
                f /= factors[i];
            } else if (scaling.kind() == RopeScaling.Kind.LLAMA3) {
                f /= scaling.llama3Divisor(f);
            } else if (scaling.kind() == RopeScaling.Kind.LINEAR) {
                f /= scaling.factor();
            }
            freqs[i] = (float) f;
        }
        return freqs;
    }

    @Override
    public void close() {
        precision.close();
        gguf.close();
    }
}
