package dev.gearbx.engine.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gearbx.engine.gear.Gear;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ThresholdPolicyTest {
    static final int V = 32768;
    static final Thresholds T = new Thresholds(1.0f, 3.0f);

    /** Runs the policy over a signal; returns the gear of each step. */
    static Gear[] run(GearPolicy policy, EntropyMonitor monitor, Gear start, float[] signal) {
        Gear[] gears = new Gear[signal.length];
        Gear g = start;
        for (int i = 0; i < signal.length; i++) {
            monitor.observeBits(signal[i]);
            g = policy.next(g, monitor);
            gears[i] = g;
        }
        return gears;
    }

    @Test
    void followsTheSmoothedEntropyAcrossThresholds() {
        float[] signal = new float[40];
        for (int i = 0; i < 40; i++) {
            signal[i] = i < 10 ? 0.2f : i < 20 ? 2.0f : i < 30 ? 6f : 0.1f;
        }
        Gear[] g = run(new ThresholdPolicy(T), new EntropyMonitor(1, V), Gear.MID, signal);
        assertEquals(Gear.LOW, g[9]);
        assertEquals(Gear.MID, g[19]);
        assertEquals(Gear.HIGH, g[29]);
        assertEquals(Gear.LOW, g[39]);
    }

    @Test
    void propertyNoShiftBeforeMinimumDurationExceptFallback() {
        SplittableRandom r = new SplittableRandom(11);
        for (int trial = 0; trial < 300; trial++) {
            int minDuration = 1 + r.nextInt(8);
            int window = 1 + r.nextInt(5);
            ThresholdPolicy p = new ThresholdPolicy(T, 0.2f, minDuration, 2);
            EntropyMonitor m = new EntropyMonitor(window, V);
            Gear g = Gear.values()[r.nextInt(3)];
            int since = 0;
            boolean first = true;
            for (int i = 0; i < 400; i++) {
                // bursts of noise, including catastrophic values (above 0.9 * 15 bits)
                float e = (float) switch (r.nextInt(6)) {
                    case 0 -> r.nextDouble() * 0.5;
                    case 1 -> 0.5 + r.nextDouble() * 3;
                    case 2 -> 3 + r.nextDouble() * 5;
                    case 3 -> 14 + r.nextDouble();
                    default -> r.nextDouble() * 15;
                };
                m.observeBits(e);
                Gear next = p.next(g, m);
                since++;
                if (next != g) {
                    boolean fallback = m.catastrophicRun() >= 2 && g == Gear.LOW && next == Gear.MID;
                    assertTrue(fallback || since >= minDuration || first,
                            "shift " + g + "->" + next + " after " + since + " steps, minimum " + minDuration);
                    since = 0;
                    first = false;
                    g = next;
                }
            }
        }
    }

    @Test
    void propertyNoOscillationWhenHoveringAtAThreshold() {
        SplittableRandom r = new SplittableRandom(5);
        for (float threshold : new float[] {T.low(), T.high()}) {
            for (Gear start : Gear.values()) {
                ThresholdPolicy p = new ThresholdPolicy(T, 0.25f, 1, 2);
                EntropyMonitor m = new EntropyMonitor(1, V);
                Gear g = start;
                int shifts = 0;
                for (int i = 0; i < 2000; i++) {
                    // jitter strictly inside the hysteresis margin
                    m.observeBits(threshold + (float) ((r.nextDouble() * 2 - 1) * 0.24));
                    Gear next = p.next(g, m);
                    if (next != g) {
                        shifts++;
                        g = next;
                    }
                }
                assertTrue(shifts <= 1, "hovering at " + threshold + " from " + start + " shifted " + shifts + " times");
            }
        }
    }

    @Test
    void catastrophicFallbackAfterExactlyTwoTokensNotOne() {
        ThresholdPolicy p = new ThresholdPolicy(T, 0.1f, 100, 2);
        EntropyMonitor m = new EntropyMonitor(4, V);
        float noise = 14.5f; // > 0.9 * log2(32768) = 13.5
        m.observeBits(noise);
        assertEquals(Gear.LOW, p.next(Gear.LOW, m), "one catastrophic token is not enough");
        m.observeBits(0.1f);
        assertEquals(Gear.LOW, p.next(Gear.LOW, m), "the run is broken");
        m.observeBits(noise);
        assertEquals(Gear.LOW, p.next(Gear.LOW, m));
        m.observeBits(noise);
        assertEquals(Gear.MID, p.next(Gear.LOW, m), "two in a row force MID despite the minimum duration");
        assertEquals(1, p.fallbacks());
    }

    @Test
    void invalidSettingsAreNamed() {
        assertThrows(IllegalArgumentException.class, () -> new ThresholdPolicy(T, 1.5f, 4, 2));
        assertThrows(IllegalArgumentException.class, () -> new ThresholdPolicy(T, 0.1f, 0, 2));
        assertThrows(IllegalArgumentException.class, () -> new Thresholds(2f, 1f));
        assertThrows(IllegalArgumentException.class, () -> new EntropyMonitor(0, V));
    }

    @Test
    void calibrationTakesPercentilesAndCaps() {
        float[] e = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f, 0.9f, 1.0f, 1.1f};
        Thresholds fallback = new Thresholds(1, 2);
        Thresholds t = Thresholds.calibrate(e, V, 4, fallback);
        assertEquals(0.5f, t.low(), 1e-6);
        assertEquals(0.7f, t.high(), 1e-6);
        // caps: low <= 0.06 * 15 = 0.9, high <= 0.18 * 15 = 2.7
        float[] big = {5, 6, 7, 8, 9, 10};
        Thresholds capped = Thresholds.calibrate(big, V, 4, fallback);
        assertEquals(0.9f, capped.low(), 1e-5);
        assertEquals(2.7f, capped.high(), 1e-5);
        assertEquals(fallback, Thresholds.calibrate(new float[] {1, 2}, V, 4, fallback), "too few samples");
    }

    @Test
    void presetsScaleWithTheVocabulary() {
        Thresholds llama3 = ModelFamily.LLAMA3.thresholdsFor(128256);
        double f = Math.log(128256) / Math.log(32768);
        assertEquals(2.2 * f, llama3.low(), 1e-4);
        assertEquals(4.5 * f, llama3.high(), 1e-4);
        assertEquals(ModelFamily.MISTRAL.preset(), ModelFamily.MISTRAL.thresholdsFor(32768));
    }

    @Test
    void classifierSeparatesChatFromMathAndCode() {
        StatisticalPromptClassifier c = new StatisticalPromptClassifier();
        assertEquals(Gear.LOW, c.assess("Say hi.").gear());
        assertEquals(Gear.LOW, c.assess("Tell me a story about a cat").gear());
        var math = c.assess("Compute 12345 * 678 + 91011 / 3 = ?");
        assertEquals(Gear.HIGH, math.gear(), "score " + math.score() + " " + math.features());
        var code = c.assess("def fib(n): return n if n < 2 else fib(n-1) + fib(n-2); class Foo { public static void main() {} }");
        assertTrue(code.gear().compareTo(Gear.MID) >= 0, "score " + code.score() + " " + code.features());
        assertTrue(math.score() > c.assess("Hello there, how are you?").score());
    }
}
