package dev.gearbx.engine.gear;

import java.util.Map;

/**
 * Memory held by a model's weights, by kind.
 *
 * @param mappedBytes bytes of the memory-mapped model file (page cache, not heap)
 * @param offHeapByGear off-heap bytes of the quantized formats built so far, per gear (the nested
 *     storage is counted once, under MID, since LOW reads half of it)
 * @param heapBytes heap bytes of small weights copied out of the file (norms, biases)
 * @param bytesReadPerToken weight bytes one decode step reads at each gear
 */
public record MemoryReport(long mappedBytes, Map<Gear, Long> offHeapByGear, long heapBytes, Map<Gear, Long> bytesReadPerToken) {
    public MemoryReport {
        offHeapByGear = Map.copyOf(offHeapByGear);
        bytesReadPerToken = Map.copyOf(bytesReadPerToken);
    }

    /** Total off-heap bytes of quantized formats. */
    public long offHeapBytes() {
        return offHeapByGear.values().stream().mapToLong(Long::longValue).sum();
    }
}
