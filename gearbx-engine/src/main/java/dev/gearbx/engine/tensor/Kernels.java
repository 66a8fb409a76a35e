package dev.gearbx.engine.tensor;

/**
 * The CPU compute kernels of a forward pass. {@link #scalar()} is the plain-loop reference, {@link #vector()} the
 * Vector API implementation; both are stateless and safe to call from several threads at once.
 */
public interface Kernels {
    /** Reference implementations: plain loops on the calling thread. */
    static Kernels scalar() {
        return ScalarKernels.INSTANCE;
    }

    /** Vector API implementations; matrix-vector products run on the shared compute pool. */
    static Kernels vector() {
        return VectorKernels.shared();
    }

    /**
     * {@link #vector()} unless system property {@code gearbx.kernels} is {@code scalar}.
     *
     * @throws IllegalArgumentException if the property is set to anything but {@code scalar} or {@code vector}
     */
    static Kernels preferred() {
        String choice = System.getProperty("gearbx.kernels");
        if (choice == null || choice.isBlank() || choice.strip().equals("vector")) {
            return vector();
        }
        if (choice.strip().equals("scalar")) {
            return scalar();
        }
        throw new IllegalArgumentException("system property gearbx.kernels must be 'scalar' or 'vector', got '"
                + choice + "'");
    }

    /** {@code out[r] = row r · x} for {@code r < w.rows()}; parallel over rows on all cores. */
    void matvec(WeightMatrix w, float[] x, float[] out);

    /** Several matrices sharing input {@code x}, in one parallel dispatch: {@code outs[i] = ws[i] · x}. */
    void matvecs(WeightMatrix[] ws, float[] x, float[][] outs);

    /** {@code out = x / sqrt(mean(x^2) + eps) * weight} over {@code size} elements; {@code out} may alias {@code x}. */
    void rmsnorm(float[] out, float[] x, float[] weight, int size, float eps);

    /** In-place, numerically stable (max-subtracted) softmax of {@code x[offset .. offset + size)}. */
    void softmax(float[] x, int offset, int size);

    float dot(float[] a, int aOffset, float[] b, int bOffset, int size);

    /** {@code y[yOffset + i] += alpha * x[xOffset + i]} for {@code i < size}. */
    void axpy(float[] y, int yOffset, float alpha, float[] x, int xOffset, int size);

    /** {@code y[i] += x[i]} for {@code i < size} (residual connection). */
    void add(float[] y, float[] x, int size);

    /** {@code gate[i] = silu(gate[i]) * up[i]} with {@code silu(v) = v / (1 + exp(-v))}. */
    void siluMul(float[] gate, float[] up, int size);

    /**
     * RoPE on {@code nHeads} consecutive heads of {@code headDim} in {@code vec} (starting at index 0); only the
     * first {@code rotaryDim} dims of each head rotate. {@code cos}/{@code sin} have {@code rotaryDim / 2} entries
     * for the current position (entry i belongs to frequency i). {@code neox = false}: interleaved pairs
     * {@code (x[2i], x[2i+1])} (llama.cpp "normal", Llama GGUF); {@code neox = true}: pairs
     * {@code (x[i], x[i + rotaryDim/2])} (llama.cpp NEOX, Qwen2).
     */
    void rope(float[] vec, int nHeads, int headDim, int rotaryDim, float[] cos, float[] sin, boolean neox);
}
