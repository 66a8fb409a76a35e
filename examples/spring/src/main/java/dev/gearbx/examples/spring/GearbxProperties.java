package dev.gearbx.examples.spring;

import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The {@code gearbx.*} properties of the app.
 *
 * <pre>{@code
 * gearbx.model=/models/llama-3.2-1b.gguf     # default: the embedded demo model
 * gearbx.model-id=llama                      # the "model" of OpenAI requests
 * gearbx.thresholds.low=0.8                  # entropy thresholds in bits (both or neither)
 * gearbx.thresholds.high=2.4
 * gearbx.backend=cpu                         # default: automatic
 * gearbx.max-tokens=128
 * }</pre>
 *
 * @param model a GGUF file or {@code ollama:NAME[:TAG]}; null or blank for the embedded demo model
 * @param modelId the id clients name in OpenAI requests (and the dashboard shows)
 * @param thresholds entropy thresholds in bits; null for the model family's preset
 * @param backend a backend forced by name; null or blank for the automatic choice
 * @param maxTokens token budget of a request that sets none
 */
@ConfigurationProperties("gearbx")
public record GearbxProperties(
        @Nullable String model,
        @DefaultValue("gearbx-demo") String modelId,
        @Nullable Thresholds thresholds,
        @Nullable String backend,
        @DefaultValue("128") int maxTokens) {

    public GearbxProperties {
        if (modelId.isBlank()) {
            throw new IllegalArgumentException("gearbx.model-id must not be blank");
        }
        if (maxTokens < 1) {
            throw new IllegalArgumentException("gearbx.max-tokens must be at least 1, got " + maxTokens);
        }
    }

    /**
     * Entropy thresholds in bits (LOW gear below {@code low}, HIGH above {@code high}).
     *
     * @param low the lower threshold
     * @param high the upper threshold
     */
    public record Thresholds(float low, float high) {
        public Thresholds {
            if (!(low >= 0) || !(high > low)) {
                throw new IllegalArgumentException("gearbx.thresholds need 0 <= low < high, got low " + low + ", high " + high);
            }
        }
    }
}
