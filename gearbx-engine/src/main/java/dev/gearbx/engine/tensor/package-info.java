/** Weight matrices read in place from a memory mapping and the CPU kernels (Vector API with a scalar reference path). */
@NullMarked
package dev.gearbx.engine.tensor;

import org.jspecify.annotations.NullMarked;
