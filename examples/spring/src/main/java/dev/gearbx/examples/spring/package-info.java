/**
 * A Spring Boot WebFlux app around gearbx: the model as a bean ({@link GearbxProperties}),
 * {@code POST /generate} as server-sent events with entropy and gear, an OpenAI-compatible
 * {@code POST /v1/chat/completions}, the live dashboard at {@code /dashboard}, and the gearbx meters
 * at {@code /actuator/prometheus}.
 */
@NullMarked
package dev.gearbx.examples.spring;

import org.jspecify.annotations.NullMarked;
