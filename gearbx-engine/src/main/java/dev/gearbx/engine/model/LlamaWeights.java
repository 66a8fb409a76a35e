package dev.gearbx.engine.model;

import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.gear.Linear;
import dev.gearbx.engine.gguf.GgmlType;
import dev.gearbx.engine.gguf.GgufTensorInfo;
import dev.gearbx.engine.gguf.TensorFile;
import dev.gearbx.engine.tensor.WeightMatrix;
import java.util.Arrays;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The weights of a Llama-family model as views of the file mappings (GGUF or safetensors) (matrices are never copied; only
 * the small norm and bias vectors are read into float arrays).
 *
 * @param tokenEmbedding (vocab, dim)
 * @param output (vocab, dim); the token embedding itself when the model ties them
 * @param outputNorm (dim)
 * @param layers the transformer blocks
 */
public record LlamaWeights(WeightMatrix tokenEmbedding, WeightMatrix output, float[] outputNorm, Layer[] layers) {

    /**
     * One transformer block.
     *
     * @param attnNorm (dim)
     * <p>Each linear layer is a {@link Linear}: the forward pass reads the matrix of the step's gear.
     *
     * @param wq (heads * headDim, dim)
     * @param wk (kvHeads * headDim, dim)
     * @param wv (kvHeads * headDim, dim)
     * @param wo (dim, heads * headDim)
     * @param bq (heads * headDim) or null
     * @param bk (kvHeads * headDim) or null
     * @param bv (kvHeads * headDim) or null
     * @param ffnNorm (dim)
     * @param wGate (ffnDim, dim)
     * @param wUp (ffnDim, dim)
     * @param wDown (dim, ffnDim)
     */
    public record Layer(
            float[] attnNorm,
            Linear wq,
            Linear wk,
            Linear wv,
            Linear wo,
            float @Nullable [] bq,
            float @Nullable [] bk,
            float @Nullable [] bv,
            float[] ffnNorm,
            Linear wGate,
            Linear wUp,
            Linear wDown) {

        /** The seven linear layers of the block, attention first. */
        public Linear[] linears() {
            return new Linear[] {wq, wk, wv, wo, wGate, wUp, wDown};
        }
    }

    /** Reads and checks every tensor against the configuration. */
    public static LlamaWeights fromGguf(TensorFile gguf, LlamaConfig c) {
        WeightMatrix embedding = matrix(gguf, "token_embd.weight", c.vocabularySize(), c.dim());
        WeightMatrix output = gguf.findTensor("output.weight").isPresent()
                ? matrix(gguf, "output.weight", c.vocabularySize(), c.dim())
                : embedding;
        Layer[] layers = new Layer[c.layers()];
        for (int i = 0; i < c.layers(); i++) {
            String p = "blk." + i + ".";
            layers[i] = new Layer(
                    vector(gguf, p + "attn_norm.weight", c.dim()),
                    linear(gguf, p + "attn_q.weight", c.qDim(), c.dim()),
                    linear(gguf, p + "attn_k.weight", c.kvDim(), c.dim()),
                    linear(gguf, p + "attn_v.weight", c.kvDim(), c.dim()),
                    linear(gguf, p + "attn_output.weight", c.dim(), c.qDim()),
                    optionalVector(gguf, p + "attn_q.bias", c.qDim()),
                    optionalVector(gguf, p + "attn_k.bias", c.kvDim()),
                    optionalVector(gguf, p + "attn_v.bias", c.kvDim()),
                    vector(gguf, p + "ffn_norm.weight", c.dim()),
                    linear(gguf, p + "ffn_gate.weight", c.ffnDim(), c.dim()),
                    linear(gguf, p + "ffn_up.weight", c.ffnDim(), c.dim()),
                    linear(gguf, p + "ffn_down.weight", c.dim(), c.ffnDim()));
        }
        return new LlamaWeights(embedding, output, vector(gguf, "output_norm.weight", c.dim()), layers);
    }

    /** Bytes of weights a decode step at the original precision reads (every matrix once, one embedding row). */
    public long bytesReadPerToken() {
        return bytesReadPerToken(Gear.HIGH);
    }

    /** Bytes of weights a decode step at {@code gear} reads (formats not built yet count as their original). */
    public long bytesReadPerToken(Gear gear) {
        long bytes = output.byteSize() + tokenEmbedding.byteSize() / tokenEmbedding.rows();
        for (Layer l : layers) {
            for (Linear lin : l.linears()) {
                bytes += lin.peek(gear).byteSize();
            }
        }
        return bytes;
    }

    /** Replaces a linear layer of block {@code layer}. */
    @FunctionalInterface
    public interface LinearMapper {
        Linear map(int layer, Linear linear);
    }

    /** The same weights with every block's linear layers passed through {@code replace}. */
    public LlamaWeights mapLinears(LinearMapper replace) {
        Layer[] mapped = new Layer[layers.length];
        for (int i = 0; i < layers.length; i++) {
            Layer l = layers[i];
            mapped[i] = new Layer(l.attnNorm, replace.map(i, l.wq), replace.map(i, l.wk), replace.map(i, l.wv),
                    replace.map(i, l.wo), l.bq, l.bk, l.bv, l.ffnNorm, replace.map(i, l.wGate), replace.map(i, l.wUp),
                    replace.map(i, l.wDown));
        }
        return new LlamaWeights(tokenEmbedding, output, outputNorm, mapped);
    }

    static Linear linear(TensorFile gguf, String name, int rows, int cols) {
        return Linear.fixed(name, matrix(gguf, name, rows, cols));
    }

    static WeightMatrix matrix(TensorFile gguf, String name, int rows, int cols) {
        GgufTensorInfo t = tensor(gguf, name);
        if (t.rank() != 2 || t.dim(0) != cols || t.dim(1) != rows) {
            throw new ModelFormatException("tensor '" + name + "' has shape " + Arrays.toString(t.shape())
                    + " but the metadata implies [" + cols + ", " + rows + "]");
        }
        requireSupported(t);
        return WeightMatrix.of(t.type(), gguf.tensorData(t), rows, cols);
    }

    static float[] vector(TensorFile gguf, String name, int length) {
        GgufTensorInfo t = tensor(gguf, name);
        if (t.elementCount() != length || t.dim(0) != length) {
            throw new ModelFormatException("tensor '" + name + "' has shape " + Arrays.toString(t.shape())
                    + " but the metadata implies [" + length + "]");
        }
        requireSupported(t);
        float[] v = new float[length];
        WeightMatrix.of(t.type(), gguf.tensorData(t), 1, length).copyRow(0, v, 0);
        return v;
    }

    private static float @Nullable [] optionalVector(TensorFile gguf, String name, int length) {
        Optional<GgufTensorInfo> t = gguf.findTensor(name);
        if (t.isEmpty()) {
            return null;
        }
        return vector(gguf, name, length);
    }

    private static GgufTensorInfo tensor(TensorFile gguf, String name) {
        return gguf.findTensor(name).orElseThrow(() -> new ModelFormatException(
                "tensor '" + name + "' is missing from " + gguf.path()));
    }

    private static void requireSupported(GgufTensorInfo t) {
        if (!t.type().isSupported()) {
            throw new ModelFormatException("tensor '" + t.name() + "' has type " + t.type()
                    + ", which gearbx cannot compute with (supported: " + supportedTypes() + ")");
        }
    }

    private static String supportedTypes() {
        return String.join(", ", Arrays.stream(GgmlType.values()).filter(GgmlType::isSupported).map(Enum::name).toList());
    }
}
