/** The Llama-family transformer: configuration from metadata, weights, KV cache and the forward pass. */
@NullMarked
package dev.gearbx.engine.model;

import org.jspecify.annotations.NullMarked;
