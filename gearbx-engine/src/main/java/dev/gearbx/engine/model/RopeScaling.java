package dev.gearbx.engine.model;

import dev.gearbx.engine.gguf.GgufMetadata;
import dev.gearbx.engine.gguf.GgufMetadataException;

/**
 * RoPE frequency scaling.
 *
 * @param kind none, linear (positions divided by factor) or llama3 (per-frequency factors)
 * @param factor the scaling factor (1 for none)
 * @param lowFreqFactor llama-3: wavelengths above originalContext/lowFreqFactor are divided by factor
 * @param highFreqFactor llama-3: wavelengths below originalContext/highFreqFactor are kept
 * @param originalContext llama-3: the context length the model was pretrained with
 */
public record RopeScaling(Kind kind, float factor, float lowFreqFactor, float highFreqFactor, int originalContext) {

    public enum Kind { NONE, LINEAR, LLAMA3 }

    public static final RopeScaling NONE = new RopeScaling(Kind.NONE, 1, 1, 1, 0);

    static RopeScaling fromGguf(GgufMetadata md, String arch) {
        String type = md.findString(arch + ".rope.scaling.type").orElse("none");
        float factor = md.findFloat(arch + ".rope.scaling.factor").orElse(1f);
        return switch (type) {
            case "none" -> NONE;
            case "linear" -> {
                if (!(factor > 0)) {
                    throw new GgufMetadataException(arch + ".rope.scaling.factor", "must be positive, got " + factor);
                }
                yield new RopeScaling(Kind.LINEAR, factor, 1, 1, 0);
            }
            case "llama3" -> new RopeScaling(Kind.LLAMA3, factor,
                    md.findFloat(arch + ".rope.scaling.low_freq_factor").orElse(1f),
                    md.findFloat(arch + ".rope.scaling.high_freq_factor").orElse(4f),
                    md.findInt(arch + ".rope.scaling.original_context_length").orElse(8192));
            default -> throw new GgufMetadataException(arch + ".rope.scaling.type",
                    "RoPE scaling '" + type + "' is not supported (supported: none, linear, llama3)");
        };
    }

    /**
     * The llama-3 factor by which frequency {@code freq} (radians per position) is divided:
     * {@code factor} for long wavelengths, 1 for short ones, smoothly interpolated between.
     */
    public float llama3Divisor(double freq) {
        double wavelength = 2 * Math.PI / freq;
        double lowWave = originalContext / lowFreqFactor;
        double highWave = originalContext / highFreqFactor;
        if (wavelength < highWave) {
            return 1f;
        }
        if (wavelength > lowWave) {
            return factor;
        }
        double smooth = (originalContext / wavelength - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
        // blend between the scaled (freq / factor) and the original frequency
        double scaled = (1 - smooth) * freq / factor + smooth * freq;
        return (float) (freq / scaled);
    }
}
