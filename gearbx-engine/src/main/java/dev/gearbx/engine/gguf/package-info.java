/** Reading and writing GGUF model files, memory-mapped with java.lang.foreign. */
@NullMarked
package dev.gearbx.engine.gguf;

import org.jspecify.annotations.NullMarked;
