/** The synchronous generation loop: prompt to tokens with a per-token callback or iterator. */
@NullMarked
package dev.gearbx.engine.generate;

import org.jspecify.annotations.NullMarked;
