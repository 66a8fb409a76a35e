/**
 * JMH microbenchmarks. Run: {@code java --add-modules jdk.incubator.vector -cp "examples/target/gearbx.jar:examples/target/lib/*" org.openjdk.jmh.Main -prof gc}.
 */
@NullMarked
package dev.gearbx.examples.jmh;

import org.jspecify.annotations.NullMarked;
