/** gearbx engine: shared types such as the root of the exception hierarchy. */
@NullMarked
package dev.gearbx.engine;

import org.jspecify.annotations.NullMarked;
