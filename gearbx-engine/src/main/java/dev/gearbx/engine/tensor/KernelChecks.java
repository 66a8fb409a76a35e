package dev.gearbx.engine.tensor;

/** Argument checks shared by the kernel implementations; messages name the offending values. */
final class KernelChecks {
    private KernelChecks() {}

    static void matvec(WeightMatrix w, float[] x, float[] out) {
        if (x.length < w.cols()) {
            throw new IllegalArgumentException("x has " + x.length + " elements, " + w + " needs " + w.cols());
        }
        if (out.length < w.rows()) {
            throw new IllegalArgumentException("out has " + out.length + " elements, " + w + " needs " + w.rows());
        }
    }

    static void matvecs(WeightMatrix[] ws, float[] x, float[][] outs) {
        if (ws.length != outs.length) {
            throw new IllegalArgumentException(ws.length + " matrices but " + outs.length + " outputs");
        }
        for (int i = 0; i < ws.length; i++) {
            matvec(ws[i], x, outs[i]);
        }
    }

    static void range(float[] a, int offset, int size, String name) {
        if (size < 0) {
            throw new IllegalArgumentException("negative size " + size);
        }
        if ((offset | size) < 0 || offset > a.length - size) {
            throw new IndexOutOfBoundsException(name + "[" + offset + " .. " + ((long) offset + size)
                    + ") is out of bounds for length " + a.length);
        }
    }

    static void rope(float[] vec, int nHeads, int headDim, int rotaryDim, float[] cos, float[] sin) {
        if (nHeads < 0 || headDim <= 0) {
            throw new IllegalArgumentException("bad head geometry nHeads=" + nHeads + " headDim=" + headDim);
        }
        if (rotaryDim < 0 || rotaryDim > headDim || (rotaryDim & 1) != 0) {
            throw new IllegalArgumentException("rotaryDim " + rotaryDim + " must be even and within headDim " + headDim);
        }
        range(vec, 0, Math.multiplyExact(nHeads, headDim), "vec");
        int half = rotaryDim / 2;
        if (cos.length < half || sin.length < half) {
            throw new IllegalArgumentException("cos/sin need " + half + " entries, got " + cos.length + "/" + sin.length);
        }
    }
}
