package dev.gearbx.engine.routing;

import dev.gearbx.engine.gguf.GgufMetadata;
import java.util.Locale;

/**
 * Model families with entropy threshold presets (in bits, stated for a 32,768-token vocabulary
 * and scaled to the real one), as measured by the seed system.
 */
public enum ModelFamily {
    LLAMA3(2.2f, 4.5f),
    MISTRAL(1.8f, 3.5f),
    QWEN2(2.5f, 5.0f),
    PHI3(1.7f, 3.4f),
    GEMMA2(2.8f, 5.5f),
    /** Anything else (Llama 2, TinyLlama, TinyStories ...): the LLaMA-3 values. */
    GENERIC(2.2f, 4.5f);

    private final Thresholds preset;

    ModelFamily(float low, float high) {
        this.preset = new Thresholds(low, high);
    }

    /** The preset as stated (for a 32,768-token vocabulary). */
    public Thresholds preset() {
        return preset;
    }

    /** The preset scaled to {@code vocabularySize}. */
    public Thresholds thresholdsFor(int vocabularySize) {
        return preset.scaledTo(vocabularySize);
    }

    /**
     * The family a GGUF file belongs to, from {@code general.architecture}, {@code general.name}
     * and the vocabulary size (Llama 3 is architecture llama with a 128,256-token vocabulary).
     */
    public static ModelFamily fromGguf(GgufMetadata md, int vocabularySize) {
        String arch = md.findString("general.architecture").orElse("").toLowerCase(Locale.ROOT);
        String name = (md.findString("general.name").orElse("") + " " + md.findString("general.basename").orElse(""))
                .toLowerCase(Locale.ROOT);
        return switch (arch) {
            case "qwen2", "qwen3" -> QWEN2;
            case "phi3" -> PHI3;
            case "gemma2" -> GEMMA2;
            case "llama" -> name.contains("mistral") || vocabularySize == 32768 ? MISTRAL
                    : vocabularySize >= 128000 || name.contains("llama 3") || name.contains("llama-3") ? LLAMA3 : GENERIC;
            default -> GENERIC;
        };
    }
}
