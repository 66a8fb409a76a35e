/** Placeholder package of gearbx-reactive; its content arrives with a later issue. */
@NullMarked
package dev.gearbx.reactive;

import org.jspecify.annotations.NullMarked;
