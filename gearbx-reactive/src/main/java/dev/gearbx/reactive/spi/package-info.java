/**
 * The backend SPI: providers found with {@link java.util.ServiceLoader}, each saying whether it is
 * usable here (and why not) without throwing; {@link dev.gearbx.reactive.spi.Backends} picks one.
 * The pure-Java CPU backend ({@link dev.gearbx.reactive.spi.CpuBackendProvider}) is always there.
 */
@NullMarked
package dev.gearbx.reactive.spi;

import org.jspecify.annotations.NullMarked;
