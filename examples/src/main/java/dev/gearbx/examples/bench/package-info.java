/**
 * The {@code gearbx bench} subcommands: decode speed, entropy separation, latency, quality and
 * production throughput. Each has a synthetic {@code --unit} mode (seconds, run by the tests) and a
 * full mode on a model; each prints a table, writes JSON that follows the schema in
 * {@code docs/bench-schema/} and draws a PNG chart (XChart, headless).
 */
@NullMarked
package dev.gearbx.examples.bench;

import org.jspecify.annotations.NullMarked;
