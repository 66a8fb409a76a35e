package dev.gearbx.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * The native structures {@code cuLaunchKernelEx} reads, laid out as cuda.h declares them (checked without a GPU:
 * nothing is launched).
 */
class DependentLaunchTest {

    @Test
    void configAndAttributeFollowCudaH() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment[] values = {arena.allocateFrom(ValueLayout.JAVA_INT, 7), arena.allocateFrom(ValueLayout.JAVA_LONG, 9L)};
            DependentLaunch.Prepared p = DependentLaunch.prepare(arena, 0x1234L, 0x5678L, 126, 256, 40960, false, values);
            MemorySegment c = p.config().reinterpret(56);
            // CUlaunchConfig: gridDim xyz, blockDim xyz, sharedMemBytes, (pad), hStream @32, attrs @40, numAttrs @48
            assertEquals(126, c.get(ValueLayout.JAVA_INT, 0));
            assertEquals(1, c.get(ValueLayout.JAVA_INT, 4));
            assertEquals(1, c.get(ValueLayout.JAVA_INT, 8));
            assertEquals(256, c.get(ValueLayout.JAVA_INT, 12));
            assertEquals(1, c.get(ValueLayout.JAVA_INT, 16));
            assertEquals(1, c.get(ValueLayout.JAVA_INT, 20));
            assertEquals(40960, c.get(ValueLayout.JAVA_INT, 24));
            assertEquals(0x5678L, c.get(ValueLayout.JAVA_LONG, 32));
            assertEquals(p.attribute().address(), c.get(ValueLayout.JAVA_LONG, 40));
            assertEquals(1, c.get(ValueLayout.JAVA_INT, 48));
            // CUlaunchAttribute: id 6 (PROGRAMMATIC_STREAM_SERIALIZATION), padded to 8, value 1
            MemorySegment a = p.attribute().reinterpret(72);
            assertEquals(6, a.get(ValueLayout.JAVA_INT, 0));
            assertEquals(1, a.get(ValueLayout.JAVA_INT, 8));
            // kernel parameters: an array of pointers to each value
            assertEquals(0x1234L, p.function().address());
            MemorySegment params = p.parameters().reinterpret(16);
            assertEquals(values[0].address(), params.getAtIndex(ValueLayout.JAVA_LONG, 0));
            assertEquals(values[1].address(), params.getAtIndex(ValueLayout.JAVA_LONG, 1));
        }
    }

    @Test
    void cooperativeLaunchAddsASecondAttribute() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment[] values = {arena.allocateFrom(ValueLayout.JAVA_INT, 7)};
            DependentLaunch.Prepared p = DependentLaunch.prepare(arena, 0x1234L, 0x5678L, 132, 512, 163840, true, values);
            MemorySegment c = p.config().reinterpret(56);
            assertEquals(132, c.get(ValueLayout.JAVA_INT, 0));
            assertEquals(163840, c.get(ValueLayout.JAVA_INT, 24));
            assertEquals(2, c.get(ValueLayout.JAVA_INT, 48));
            // attributes[0]: PROGRAMMATIC_STREAM_SERIALIZATION (6) = 1; attributes[1] at 72: COOPERATIVE (2) = 1
            MemorySegment a = p.attribute().reinterpret(144);
            assertEquals(6, a.get(ValueLayout.JAVA_INT, 0));
            assertEquals(1, a.get(ValueLayout.JAVA_INT, 8));
            assertEquals(2, a.get(ValueLayout.JAVA_INT, 72));
            assertEquals(1, a.get(ValueLayout.JAVA_INT, 80));
        }
    }

    @Test
    void saysWhyExactlyWhenUnavailable() {
        System.out.println("dependent launch here: " + (DependentLaunch.available() ? "available"
                : "unavailable (" + DependentLaunch.unavailableReason() + ")"));
        assertEquals(DependentLaunch.available(), DependentLaunch.unavailableReason().isBlank(),
                "a reason is given exactly when cuLaunchKernelEx could not be bound");
    }
}
