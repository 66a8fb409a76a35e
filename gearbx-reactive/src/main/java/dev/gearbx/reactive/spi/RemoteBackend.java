package dev.gearbx.reactive.spi;

/**
 * A backend whose models run elsewhere (a server reached over the network), so there is no model
 * file to load: {@link dev.gearbx.reactive.Gearbx.Builder#remote(RemoteBackend)} connects it and
 * the resulting {@link dev.gearbx.reactive.GearbxModel} streams exactly like a local one. Example:
 * {@link dev.gearbx.reactive.client.OpenAiBackend}.
 */
public interface RemoteBackend {

    /** Short lowercase name, e.g. {@code openai}. */
    String name();

    /**
     * Makes the model that streams from the remote side; cheap (no request is sent until a stream
     * starts).
     */
    LoadedModel connect();
}
