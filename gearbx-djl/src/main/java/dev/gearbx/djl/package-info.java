/**
 * gearbx on libtorch through DJL PyTorch: {@link dev.gearbx.djl.DjlLlamaModel}, the Llama-family
 * forward pass on libtorch tensors with a KV cache, gears by swapping the managed layers' weight
 * tensors; and {@link dev.gearbx.djl.DjlBackendProvider}, its backend for gearbx-reactive.
 */
@NullMarked
package dev.gearbx.djl;

import org.jspecify.annotations.NullMarked;
