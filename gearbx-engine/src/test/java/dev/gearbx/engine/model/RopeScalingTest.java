package dev.gearbx.engine.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Llama 3.1's RoPE frequency scaling (factor 8, low 1, high 4, original context 8192). */
class RopeScalingTest {
    final RopeScaling llama31 = new RopeScaling(RopeScaling.Kind.LLAMA3, 8f, 1f, 4f, 8192);

    @Test
    void shortWavelengthsAreKept() {
        // wavelength 2*pi/freq below 8192/4 = 2048 positions: unchanged
        double freq = 2 * Math.PI / 1000;
        assertEquals(1f, llama31.llama3Divisor(freq));
    }

    @Test
    void longWavelengthsAreDividedByTheFactor() {
        double freq = 2 * Math.PI / 20000; // wavelength above 8192 / 1
        assertEquals(8f, llama31.llama3Divisor(freq));
    }

    @Test
    void wavelengthsBetweenAreInterpolated() {
        double wavelength = 4096; // smooth = (8192/4096 - 1) / (4 - 1) = 1/3
        double freq = 2 * Math.PI / wavelength;
        double smooth = 1.0 / 3;
        double expected = (1 - smooth) * freq / 8 + smooth * freq;
        assertEquals(freq / expected, llama31.llama3Divisor(freq), 1e-5);
    }
}
