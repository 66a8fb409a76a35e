package dev.gearbx.engine.tensor;

/** Reference kernels: plain loops on the calling thread, the yardstick for {@link VectorKernels}. */
final class ScalarKernels implements Kernels {
    static final ScalarKernels INSTANCE = new ScalarKernels();

    private ScalarKernels() {}

    @Override
    public void matvec(WeightMatrix w, float[] x, float[] out) {
        KernelChecks.matvec(w, x, out);
        for (int r = 0; r < w.rows(); r++) {
            out[r] = w.dotScalar(r, x, 0);
        }
    }

    @Override
    public void matvecs(WeightMatrix[] ws, float[] x, float[][] outs) {
        KernelChecks.matvecs(ws, x, outs);
        for (int i = 0; i < ws.length; i++) {
            matvec(ws[i], x, outs[i]);
        }
    }

    @Override
    public void rmsnorm(float[] out, float[] x, float[] weight, int size, float eps) {
        KernelChecks.range(x, 0, size, "x");
        KernelChecks.range(out, 0, size, "out");
        KernelChecks.range(weight, 0, size, "weight");
        double ss = 0;
        for (int i = 0; i < size; i++) {
            ss += (double) x[i] * x[i];
        }
        float scale = (float) (1.0 / Math.sqrt(ss / size + eps));
        for (int i = 0; i < size; i++) {
            out[i] = x[i] * scale * weight[i];
        }
    }

    @Override
    public void softmax(float[] x, int offset, int size) {
        KernelChecks.range(x, offset, size, "x");
        if (size == 0) {
            return;
        }
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < size; i++) {
            max = Math.max(max, x[offset + i]);
        }
        float sum = 0f;
        for (int i = 0; i < size; i++) {
            float e = (float) Math.exp(x[offset + i] - max);
            x[offset + i] = e;
            sum += e;
        }
        float inv = 1f / sum;
        for (int i = 0; i < size; i++) {
            x[offset + i] *= inv;
        }
    }

    @Override
    public float dot(float[] a, int aOffset, float[] b, int bOffset, int size) {
        KernelChecks.range(a, aOffset, size, "a");
        KernelChecks.range(b, bOffset, size, "b");
        float sum = 0f;
        for (int i = 0; i < size; i++) {
            sum += a[aOffset + i] * b[bOffset + i];
        }
        return sum;
    }

    @Override
    public void axpy(float[] y, int yOffset, float alpha, float[] x, int xOffset, int size) {
        KernelChecks.range(y, yOffset, size, "y");
        KernelChecks.range(x, xOffset, size, "x");
        for (int i = 0; i < size; i++) {
            y[yOffset + i] += alpha * x[xOffset + i];
        }
    }

    @Override
    public void add(float[] y, float[] x, int size) {
        KernelChecks.range(y, 0, size, "y");
        KernelChecks.range(x, 0, size, "x");
        for (int i = 0; i < size; i++) {
            y[i] += x[i];
        }
    }

    @Override
    public void siluMul(float[] gate, float[] up, int size) {
        KernelChecks.range(gate, 0, size, "gate");
        KernelChecks.range(up, 0, size, "up");
        for (int i = 0; i < size; i++) {
            float g = gate[i];
            gate[i] = (float) (g / (1.0 + Math.exp(-g))) * up[i];
        }
    }

    @Override
    public void rope(float[] vec, int nHeads, int headDim, int rotaryDim, float[] cos, float[] sin, boolean neox) {
        KernelChecks.rope(vec, nHeads, headDim, rotaryDim, cos, sin);
        int half = rotaryDim / 2;
        for (int h = 0; h < nHeads; h++) {
            int base = h * headDim;
            for (int i = 0; i < half; i++) {
                // Pair partners: adjacent elements (normal) or the element half a rotary span away (NEOX).
                int i0 = neox ? base + i : base + 2 * i;
                int i1 = neox ? base + i + half : base + 2 * i + 1;
                float x0 = vec[i0];
                float x1 = vec[i1];
                // 2D rotation by the angle whose cosine/sine are cos[i]/sin[i].
                vec[i0] = x0 * cos[i] - x1 * sin[i];
                vec[i1] = x0 * sin[i] + x1 * cos[i];
            }
        }
    }
}
