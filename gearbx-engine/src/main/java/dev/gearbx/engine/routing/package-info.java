/**
 * Entropy routing: the entropy of each next-token distribution, smoothed over a window, decides the
 * gear of the following steps (thresholds with hysteresis, a minimum gear duration, calibration from
 * the prompt, a catastrophic-entropy fallback and a cold-start prompt classifier).
 */
@NullMarked
package dev.gearbx.engine.routing;

import org.jspecify.annotations.NullMarked;
