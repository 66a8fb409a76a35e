/** Placeholder package of gearbx-kernels-metal; its content arrives with a later issue. */
@NullMarked
package dev.gearbx.kernels.metal;

import org.jspecify.annotations.NullMarked;
