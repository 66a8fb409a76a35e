/**
 * gearbx as a Reactor pipeline: {@link dev.gearbx.reactive.Gearbx#builder()} loads a model into a
 * {@link dev.gearbx.reactive.GearbxModel}, whose {@code stream} is a cold, demand-driven
 * {@code Flux<StreamChunk>}; {@link dev.gearbx.reactive.GearbxOperators} holds the rules (fallback,
 * NaN guard, stop sequences, budgets) as operators to add with {@code Flux.transform}.
 */
@NullMarked
package dev.gearbx.reactive;

import org.jspecify.annotations.NullMarked;
