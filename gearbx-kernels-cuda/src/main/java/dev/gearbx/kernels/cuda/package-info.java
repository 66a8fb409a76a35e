/** Placeholder package of gearbx-kernels-cuda; its content arrives with a later issue. */
@NullMarked
package dev.gearbx.kernels.cuda;

import org.jspecify.annotations.NullMarked;
