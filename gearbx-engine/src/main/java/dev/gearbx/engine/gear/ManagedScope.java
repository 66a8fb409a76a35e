package dev.gearbx.engine.gear;

/** Which linear layers of a transformer block the precision manager manages. */
public enum ManagedScope {
    /** q, k, v and output projections (the seed's default). */
    ATTENTION,
    /** gate, up and down projections. */
    MLP,
    /** All seven linear layers. */
    ALL;

    /** Whether the layer with this tensor name suffix is managed ({@code attn_q.weight}, {@code ffn_up.weight}, ...). */
    public boolean includes(String tensorName) {
        boolean attention = tensorName.contains(".attn_");
        boolean mlp = tensorName.contains(".ffn_");
        return switch (this) {
            case ATTENTION -> attention;
            case MLP -> mlp;
            case ALL -> attention || mlp;
        };
    }
}
