package dev.gearbx.engine.tensor;

import org.jspecify.annotations.Nullable;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API kernels. Matrix-vector products run on a {@link ComputePool}; the element-wise kernels are small
 * (a few thousand floats per call) and stay on the calling thread.
 */
final class VectorKernels implements Kernels {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    /** Swaps neighbours: lane i takes lane i ^ 1 (for interleaved RoPE pairs). */
    private static final VectorShuffle<Float> PAIR_SWAP = VectorShuffle.fromOp(F, i -> i ^ 1);

    /** Below this many rows a matvec stays on the calling thread. */
    static final int DEFAULT_MIN_PARALLEL_ROWS = 64;
    /** Below this many weight bytes a matvec stays on the calling thread (streaming it takes ~1-2 µs). */
    static final long DEFAULT_MIN_PARALLEL_BYTES = 64 * 1024;

    private final ComputePool pool;
    private final int minParallelRows;
    private final long minParallelBytes;

    VectorKernels(ComputePool pool, int minParallelRows, long minParallelBytes) {
        this.pool = pool;
        this.minParallelRows = minParallelRows;
        this.minParallelBytes = minParallelBytes;
    }

    private static final class Shared {
        static final VectorKernels INSTANCE = new VectorKernels(
                new ComputePool(ComputePool.configuredThreads()), DEFAULT_MIN_PARALLEL_ROWS, DEFAULT_MIN_PARALLEL_BYTES);
    }

    static VectorKernels shared() {
        return Shared.INSTANCE;
    }

    ComputePool pool() {
        return pool;
    }

    @Override
    public void matvec(WeightMatrix w, float[] x, float[] out) {
        KernelChecks.matvec(w, x, out);
        int rows = w.rows();
        F16Matrix.PreparedX p = w instanceof F16Matrix ? F16Matrix.prepare(x, w.cols()) : null;
        if (rows < minParallelRows || w.byteSize() < minParallelBytes || !pool.accessible(w.data())) {
            rowDots(w, x, p, out, 0, rows);
            return;
        }
        pool.parallelFor(rows, (from, to) -> rowDots(w, x, p, out, from, to));
    }

    /** Rows {@code [from, to)} of {@code w} times x; {@code p} is x prepared for an F16 {@code w}, else ignored. */
    private static void rowDots(WeightMatrix w, float[] x, F16Matrix.@Nullable PreparedX p, float[] out, int from, int to) {
        if (w instanceof F16Matrix f16) {
            f16.dotRows(p, x, out, from, to);
            return;
        }
        w.dotRows(x, from, to, out);
    }

    @Override
    public void matvecs(WeightMatrix[] ws, float[] x, float[][] outs) {
        KernelChecks.matvecs(ws, x, outs);
        // Row ranges of all matrices are concatenated: global row g of matrix i is local row g - start[i].
        int[] start = new int[ws.length + 1];
        long bytes = 0;
        boolean accessible = true;
        for (int i = 0; i < ws.length; i++) {
            start[i + 1] = Math.addExact(start[i], ws[i].rows());
            bytes += ws[i].byteSize();
            accessible &= pool.accessible(ws[i].data());
        }
        int total = start[ws.length];
        // x prepared once for all F16 matrices; each kernel reads only its own cols of it.
        F16Matrix.PreparedX p = null;
        int maxCols = 0;
        for (WeightMatrix w : ws) {
            if (w instanceof F16Matrix) {
                maxCols = Math.max(maxCols, w.cols());
            }
        }
        if (maxCols > 0) {
            p = F16Matrix.prepare(x, maxCols);
        }
        F16Matrix.PreparedX prepared = p;
        if (total < minParallelRows || bytes < minParallelBytes || !accessible) {
            multiRowDots(ws, x, prepared, outs, start, 0, total);
            return;
        }
        pool.parallelFor(total, (from, to) -> multiRowDots(ws, x, prepared, outs, start, from, to));
    }

    private static void multiRowDots(WeightMatrix[] ws, float[] x, F16Matrix.@Nullable PreparedX p, float[][] outs, int[] start,
            int from, int to) {
        for (int i = 0; i < ws.length && from < to; i++) {
            int lo = Math.max(from, start[i]);
            int hi = Math.min(to, start[i + 1]);
            if (lo < hi) {
                rowDots(ws[i], x, p, outs[i], lo - start[i], hi - start[i]);
            }
        }
    }

    @Override
    public void rmsnorm(float[] out, float[] x, float[] weight, int size, float eps) {
        KernelChecks.range(x, 0, size, "x");
        KernelChecks.range(out, 0, size, "out");
        KernelChecks.range(weight, 0, size, "weight");
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int i = 0;
        int bound2 = size - size % (2 * L);
        for (; i < bound2; i += 2 * L) {
            FloatVector a = FloatVector.fromArray(F, x, i);
            FloatVector b = FloatVector.fromArray(F, x, i + L);
            acc0 = a.fma(a, acc0);
            acc1 = b.fma(b, acc1);
        }
        int bound = size - size % L;
        for (; i < bound; i += L) {
            FloatVector a = FloatVector.fromArray(F, x, i);
            acc0 = a.fma(a, acc0);
        }
        float ss = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < size; i++) {
            ss += x[i] * x[i];
        }
        // 1 / RMS, with eps inside the square root as in llama.cpp.
        float scale = (float) (1.0 / Math.sqrt((double) ss / size + eps));
        i = 0;
        for (; i < bound; i += L) {
            FloatVector.fromArray(F, x, i).mul(scale).mul(FloatVector.fromArray(F, weight, i)).intoArray(out, i);
        }
        for (; i < size; i++) {
            out[i] = x[i] * scale * weight[i];
        }
    }

    @Override
    public void softmax(float[] x, int offset, int size) {
        KernelChecks.range(x, offset, size, "x");
        if (size == 0) {
            return;
        }
        int bound = size - size % L;
        float max = Float.NEGATIVE_INFINITY;
        int i = 0;
        if (bound > 0) {
            FloatVector m = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
            for (; i < bound; i += L) {
                m = m.max(FloatVector.fromArray(F, x, offset + i));
            }
            max = m.reduceLanes(VectorOperators.MAX);
        }
        for (; i < size; i++) {
            max = Math.max(max, x[offset + i]);
        }
        // exp(x - max) <= 1, so nothing overflows whatever the logits' magnitude.
        FloatVector sumV = FloatVector.zero(F);
        i = 0;
        for (; i < bound; i += L) {
            FloatVector e = FloatVector.fromArray(F, x, offset + i).sub(max).lanewise(VectorOperators.EXP);
            e.intoArray(x, offset + i);
            sumV = sumV.add(e);
        }
        float sum = sumV.reduceLanes(VectorOperators.ADD);
        for (; i < size; i++) {
            float e = (float) Math.exp(x[offset + i] - max);
            x[offset + i] = e;
            sum += e;
        }
        float inv = 1f / sum;
        i = 0;
        for (; i < bound; i += L) {
            FloatVector.fromArray(F, x, offset + i).mul(inv).intoArray(x, offset + i);
        }
        for (; i < size; i++) {
            x[offset + i] *= inv;
        }
    }

    @Override
    public float dot(float[] a, int aOffset, float[] b, int bOffset, int size) {
        KernelChecks.range(a, aOffset, size, "a");
        KernelChecks.range(b, bOffset, size, "b");
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        FloatVector acc2 = FloatVector.zero(F);
        FloatVector acc3 = FloatVector.zero(F);
        int i = 0;
        // Four independent accumulators hide the FMA latency.
        int bound4 = size - size % (4 * L);
        for (; i < bound4; i += 4 * L) {
            acc0 = FloatVector.fromArray(F, a, aOffset + i).fma(FloatVector.fromArray(F, b, bOffset + i), acc0);
            acc1 = FloatVector.fromArray(F, a, aOffset + i + L).fma(FloatVector.fromArray(F, b, bOffset + i + L), acc1);
            acc2 = FloatVector.fromArray(F, a, aOffset + i + 2 * L)
                    .fma(FloatVector.fromArray(F, b, bOffset + i + 2 * L), acc2);
            acc3 = FloatVector.fromArray(F, a, aOffset + i + 3 * L)
                    .fma(FloatVector.fromArray(F, b, bOffset + i + 3 * L), acc3);
        }
        int bound = size - size % L;
        for (; i < bound; i += L) {
            acc0 = FloatVector.fromArray(F, a, aOffset + i).fma(FloatVector.fromArray(F, b, bOffset + i), acc0);
        }
        float sum = acc0.add(acc1).add(acc2.add(acc3)).reduceLanes(VectorOperators.ADD);
        for (; i < size; i++) {
            sum += a[aOffset + i] * b[bOffset + i];
        }
        return sum;
    }

    @Override
    public void axpy(float[] y, int yOffset, float alpha, float[] x, int xOffset, int size) {
        KernelChecks.range(y, yOffset, size, "y");
        KernelChecks.range(x, xOffset, size, "x");
        int i = 0;
        int bound = size - size % L;
        FloatVector a = FloatVector.broadcast(F, alpha);
        for (; i < bound; i += L) {
            FloatVector.fromArray(F, x, xOffset + i)
                    .fma(a, FloatVector.fromArray(F, y, yOffset + i))
                    .intoArray(y, yOffset + i);
        }
        for (; i < size; i++) {
            y[yOffset + i] += alpha * x[xOffset + i];
        }
    }

    @Override
    public void add(float[] y, float[] x, int size) {
        KernelChecks.range(y, 0, size, "y");
        KernelChecks.range(x, 0, size, "x");
        int i = 0;
        int bound = size - size % L;
        for (; i < bound; i += L) {
            FloatVector.fromArray(F, y, i).add(FloatVector.fromArray(F, x, i)).intoArray(y, i);
        }
        for (; i < size; i++) {
            y[i] += x[i];
        }
    }

    @Override
    public void siluMul(float[] gate, float[] up, int size) {
        KernelChecks.range(gate, 0, size, "gate");
        KernelChecks.range(up, 0, size, "up");
        int i = 0;
        int bound = size - size % L;
        for (; i < bound; i += L) {
            FloatVector g = FloatVector.fromArray(F, gate, i);
            // silu(g) = g / (1 + e^-g); e^-g overflowing to +Inf gives -0, the correct limit.
            FloatVector silu = g.div(g.neg().lanewise(VectorOperators.EXP).add(1f));
            silu.mul(FloatVector.fromArray(F, up, i)).intoArray(gate, i);
        }
        for (; i < size; i++) {
            float g = gate[i];
            gate[i] = (float) (g / (1.0 + Math.exp(-g))) * up[i];
        }
    }

    @Override
    public void rope(float[] vec, int nHeads, int headDim, int rotaryDim, float[] cos, float[] sin, boolean neox) {
        KernelChecks.rope(vec, nHeads, headDim, rotaryDim, cos, sin);
        int half = rotaryDim / 2;
        if (neox) {
            int bound = half - half % L;
            for (int h = 0; h < nHeads; h++) {
                int base = h * headDim;
                int i = 0;
                for (; i < bound; i += L) {
                    FloatVector x0 = FloatVector.fromArray(F, vec, base + i);
                    FloatVector x1 = FloatVector.fromArray(F, vec, base + i + half);
                    FloatVector c = FloatVector.fromArray(F, cos, i);
                    FloatVector s = FloatVector.fromArray(F, sin, i);
                    x0.mul(c).sub(x1.mul(s)).intoArray(vec, base + i);
                    x0.mul(s).add(x1.mul(c)).intoArray(vec, base + i + half);
                }
                for (; i < half; i++) {
                    float x0 = vec[base + i];
                    float x1 = vec[base + i + half];
                    vec[base + i] = x0 * cos[i] - x1 * sin[i];
                    vec[base + i + half] = x0 * sin[i] + x1 * cos[i];
                }
            }
            return;
        }
        // Interleaved pairs: out = v * [c0,c0,c1,c1..] + swap(v) * [-s0,s0,-s1,s1..], lanes of one pair together.
        int bound = rotaryDim - rotaryDim % L;
        float[] cosE = new float[bound];
        float[] sinE = new float[bound];
        for (int j = 0; j < bound; j += 2) {
            cosE[j] = cos[j / 2];
            cosE[j + 1] = cos[j / 2];
            sinE[j] = -sin[j / 2];
            sinE[j + 1] = sin[j / 2];
        }
        for (int h = 0; h < nHeads; h++) {
            int base = h * headDim;
            int j = 0;
            for (; j < bound; j += L) {
                FloatVector v = FloatVector.fromArray(F, vec, base + j);
                FloatVector swapped = v.rearrange(PAIR_SWAP);
                v.mul(FloatVector.fromArray(F, cosE, j))
                        .add(swapped.mul(FloatVector.fromArray(F, sinE, j)))
                        .intoArray(vec, base + j);
            }
            for (; j < rotaryDim; j += 2) {
                int i = j / 2;
                float x0 = vec[base + j];
                float x1 = vec[base + j + 1];
                vec[base + j] = x0 * cos[i] - x1 * sin[i];
                vec[base + j + 1] = x0 * sin[i] + x1 * cos[i];
            }
        }
    }
}
