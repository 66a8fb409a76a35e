package dev.gearbx.kernels.cuda;

import dev.gearbx.engine.model.LlamaConfig;
import dev.gearbx.engine.model.LlamaModel;
import dev.gearbx.engine.model.ModelShape;
import dev.gearbx.engine.model.RopeType;

/**
 * What the device decode step needs to know about a Llama-family model.
 *
 * @param dim embedding width
 * @param layers transformer blocks
 * @param heads query heads
 * @param kvHeads key/value heads
 * @param headDim width of one head
 * @param ffnDim SwiGLU hidden width
 * @param vocabularySize tokens
 * @param contextLength most positions
 * @param rmsEps RMSNorm epsilon
 * @param rotaryDim rotated dimensions of each head
 * @param neox whether RoPE pairs element i with i + rotaryDim / 2 (else 2i with 2i + 1)
 * @param ropeFrequencies radians per position of each rotated pair (rotaryDim / 2)
 */
record DeviceShape(int dim, int layers, int heads, int kvHeads, int headDim, int ffnDim, int vocabularySize,
        int contextLength, float rmsEps, int rotaryDim, boolean neox, float[] ropeFrequencies) {

    DeviceShape {
        if (ropeFrequencies.length != rotaryDim / 2) {
            throw new IllegalArgumentException("ropeFrequencies must hold rotaryDim / 2 = " + rotaryDim / 2
                    + " values, got " + ropeFrequencies.length);
        }
        ropeFrequencies = ropeFrequencies.clone();
    }

    int qDim() {
        return heads * headDim;
    }

    int kvDim() {
        return kvHeads * headDim;
    }

    static DeviceShape of(LlamaModel model) {
        LlamaConfig c = model.config();
        return new DeviceShape(c.dim(), c.layers(), c.heads(), c.kvHeads(), c.headDim(), c.ffnDim(),
                c.vocabularySize(), c.contextLength(), c.rmsEps(), c.rotaryDim(), c.ropeType() == RopeType.NEOX,
                model.ropeFrequencies());
    }

    /** A synthetic model's shape: head width dim / heads, RoPE over the whole head with base {@code theta}. */
    static DeviceShape of(ModelShape s, float theta) {
        int headDim = s.dim() / s.heads();
        float[] f = new float[headDim / 2];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) Math.pow(theta, -2.0 * i / headDim);
        }
        return new DeviceShape(s.dim(), s.layers(), s.heads(), s.kvHeads(), headDim, s.ffnDim(), s.vocabularySize(),
                s.contextLength(), 1e-5f, headDim, false, f);
    }
}
