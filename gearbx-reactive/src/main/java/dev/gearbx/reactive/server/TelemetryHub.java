package dev.gearbx.reactive.server;

import dev.gearbx.reactive.openai.Responses.TelemetryEvent;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;

/**
 * Fans the telemetry of every active stream out to the subscribers of {@code /v1/gearbx/telemetry}: the
 * gearbx server's, and any other server that offers the same endpoint (the Spring example does).
 * Best effort: up to {@value #BUFFER} events wait while a subscriber has no demand (its connection
 * busy writing), more are dropped; publishing never blocks a compute thread (emissions from several
 * streams are serialized by a short lock). (A direct best-effort sink would drop every event while a
 * subscriber's demand is momentarily zero.)
 */
public final class TelemetryHub {
    static final int BUFFER = 1024;
    private final Sinks.Many<TelemetryEvent> sink = Sinks.many().multicast().onBackpressureBuffer(BUFFER, false);

    /** Hands {@code event} to every current subscriber (nothing to do when there is none). */
    public void publish(TelemetryEvent event) {
        if (sink.currentSubscriberCount() == 0) {
            return;
        }
        synchronized (this) {
            sink.tryEmitNext(event);
        }
    }

    /** The events published from now on, for as long as the subscription lasts. */
    public Flux<TelemetryEvent> events() {
        return sink.asFlux();
    }

    /** Completes every subscriber's stream. */
    public void close() {
        synchronized (this) {
            sink.tryEmitComplete();
        }
    }
}
