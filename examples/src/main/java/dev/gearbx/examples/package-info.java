/** The gearbx command line and usage examples. */
@NullMarked
package dev.gearbx.examples;

import org.jspecify.annotations.NullMarked;
