/**
 * The CUDA backend: the whole Llama decode step on an NVIDIA GPU through JCuda's driver API, found with
 * {@link java.util.ServiceLoader} as {@link dev.gearbx.kernels.cuda.CudaBackendProvider}. Kernels (in
 * {@code src/main/cuda}, built to PTX when nvcc is present) cover the fused dequantizing GEMVs for F32, F16,
 * BF16 and the nested LOW/MID planes, RMSNorm, RoPE, attention over the KV cache, SwiGLU, residuals, and the
 * entropy plus greedy sampling of the logits; only token ids and entropies come back to the host.
 */
@NullMarked
package dev.gearbx.kernels.cuda;

import org.jspecify.annotations.NullMarked;
