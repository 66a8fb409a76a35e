package dev.gearbx.reactive.server;

import dev.gearbx.reactive.openai.Responses.TelemetryEvent;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;

/**
 * Fans the telemetry of every active stream out to the subscribers of {@code /v1/gearbx/telemetry}.
 * Best effort: a subscriber without demand misses events, and publishing never blocks a compute
 * thread (emissions from several streams are serialized by a short lock).
 */
final class TelemetryHub {
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

    void close() {
        synchronized (this) {
            sink.tryEmitComplete();
        }
    }
}
