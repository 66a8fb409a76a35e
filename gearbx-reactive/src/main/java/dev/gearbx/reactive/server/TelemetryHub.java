package dev.gearbx.reactive.server;

import dev.gearbx.reactive.openai.Responses.TelemetryEvent;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;

/**
 * Fans the telemetry of every active stream out to the subscribers of {@code /v1/gearbx/telemetry}.
 * Best effort: up to {@value #BUFFER} events wait while a subscriber has no demand (its connection
 * busy writing), more are dropped; publishing never blocks a compute thread (emissions from several
 * streams are serialized by a short lock). (A direct best-effort sink would drop every event while a
 * subscriber's demand is momentarily zero.)
 */
final class TelemetryHub {
    static final int BUFFER = 1024;
    private final Sinks.Many<TelemetryEvent> sink = Sinks.many().multicast().onBackpressureBuffer(BUFFER, false);

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
