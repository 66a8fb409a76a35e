/**
 * gearbx as an OpenAI-compatible HTTP server on Reactor Netty: {@link dev.gearbx.reactive.server.GearbxServer}
 * serves {@code /v1/models}, {@code /v1/completions} and {@code /v1/chat/completions} (streamed as
 * server-sent events or whole), a telemetry stream of every active generation
 * ({@code /v1/gearbx/telemetry}) and Prometheus metrics ({@code /metrics}). Loopback by default.
 */
@NullMarked
package dev.gearbx.reactive.server;

import org.jspecify.annotations.NullMarked;
