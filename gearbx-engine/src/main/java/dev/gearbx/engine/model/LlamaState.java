package dev.gearbx.engine.model;

import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.tensor.WeightMatrix;

/**
 * The state of one sequence: its position, KV cache and scratch buffers. Not thread-safe; one per
 * sequence. Several states can share one {@link LlamaModel}.
 */
public final class LlamaState {
    final int capacity;
    int position;

    /** activation at current time stamp (dim) */
    final float[] x;
    /** same, inside a residual branch (dim) */
    final float[] xb;
    /** attention output, all heads (qDim) */
    final float[] att;
    /** query (qDim) */
    final float[] q;
    /** key and value of the current position (kvDim) */
    final float[] k;
    final float[] v;
    /** SwiGLU hidden buffers (ffnDim) */
    final float[] hb;
    final float[] hb2;
    /** attention scores for one head (capacity) */
    final float[] scores;
    /** RoPE cos/sin for the current position (rotaryDim / 2) */
    final float[] cos;
    final float[] sin;
    /** output logits (vocab) */
    final float[] logits;
    /** KV cache: (layer, capacity * kvDim) */
    final float[][] keyCache;
    final float[][] valueCache;
    /** the gear the next forward step runs at; a shift is a write to this field */
    Gear gear = Gear.HIGH;
    /** reused per step so the forward pass allocates nothing */
    final WeightMatrix[] qkvMatrices = new WeightMatrix[3];
    final WeightMatrix[] gateUpMatrices = new WeightMatrix[2];
    final float[][] qkvOut;
    final float[][] gateUpOut;

    LlamaState(LlamaConfig c, int capacity) {
        this.capacity = capacity;
        x = new float[c.dim()];
        xb = new float[c.dim()];
        att = new float[c.qDim()];
        q = new float[c.qDim()];
        k = new float[c.kvDim()];
        v = new float[c.kvDim()];
        hb = new float[c.ffnDim()];
        hb2 = new float[c.ffnDim()];
        scores = new float[capacity];
        cos = new float[c.rotaryDim() / 2];
        sin = new float[c.rotaryDim() / 2];
        logits = new float[c.vocabularySize()];
        keyCache = new float[c.layers()][(int) Math.multiplyExact((long) capacity, c.kvDim())];
        valueCache = new float[c.layers()][(int) Math.multiplyExact((long) capacity, c.kvDim())];
        qkvOut = new float[][] {q, k, v};
        gateUpOut = new float[][] {hb, hb2};
    }

    /** The gear the next forward step runs at. */
    public Gear gear() {
        return gear;
    }

    /** Sets the gear of the next forward step: a field write, no copy, no allocation. */
    public void shift(Gear gear) {
        this.gear = java.util.Objects.requireNonNull(gear, "gear");
    }

    /** Number of tokens already in the KV cache (the position of the next token). */
    public int position() {
        return position;
    }

    /** Most tokens this state can hold. */
    public int capacity() {
        return capacity;
    }

    /**
     * Steps back {@code n} positions, so they are computed again (their KV entries are
     * overwritten by the next forward steps).
     */
    public void rewind(int n) {
        if (n < 0 || n > position) {
            throw new IllegalArgumentException("cannot rewind " + n + " positions from position " + position);
        }
        position -= n;
    }

    /** Forgets the sequence so the state can be reused from position 0. */
    public void reset() {
        position = 0;
    }

    /** Logits of the last forward step (vocab); owned by the state and overwritten by the next step. */
    public float[] logits() {
        return logits;
    }

    /** Heap bytes held by the KV cache. */
    public long kvCacheBytes() {
        return 2L * keyCache.length * keyCache[0].length * Float.BYTES;
    }
}
