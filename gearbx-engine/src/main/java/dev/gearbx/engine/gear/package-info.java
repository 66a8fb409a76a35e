/** Gears: the precision a decode step runs at, the packed weight formats behind them, and the precision manager. */
@NullMarked
package dev.gearbx.engine.gear;

import org.jspecify.annotations.NullMarked;
