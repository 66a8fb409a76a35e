package dev.gearbx.examples.spring;

import dev.gearbx.reactive.openai.Responses.TelemetryEvent;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;

/**
 * Fans every active stream's tokens out to the subscribers of {@code GET /v1/gearbx/telemetry}, as
 * the gearbx server does. Best effort: a subscriber without demand misses events; publishing never
 * blocks the compute thread beyond a short lock (several streams emit at once).
 */
final class Telemetry {
    private final Sinks.Many<TelemetryEvent> sink = Sinks.many().multicast().directBestEffort();

    void publish(TelemetryEvent event) {
        if (sink.currentSubscriberCount() == 0) {
            return;
        }
        synchronized (this) {
            sink.tryEmitNext(event);
        }
    }

    Flux<TelemetryEvent> events() {
        return sink.asFlux();
    }
}
