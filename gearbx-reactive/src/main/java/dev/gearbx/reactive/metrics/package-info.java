/** Micrometer meters of gearbx generation: {@link dev.gearbx.reactive.metrics.GearbxMetrics}, named in {@link dev.gearbx.reactive.metrics.GearbxMeters}. */
@NullMarked
package dev.gearbx.reactive.metrics;

import org.jspecify.annotations.NullMarked;
