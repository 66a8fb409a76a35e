/** Choosing the next token from logits: greedy, temperature, top-k, top-p, min-p, repetition penalty. */
@NullMarked
package dev.gearbx.engine.sampling;

import org.jspecify.annotations.NullMarked;
