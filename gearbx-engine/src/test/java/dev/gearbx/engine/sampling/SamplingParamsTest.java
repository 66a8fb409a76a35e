package dev.gearbx.engine.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import dev.gearbx.engine.GearbxException;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SamplingParamsTest {

    @Test
    void builderDefaults() {
        SamplingParams p = SamplingParams.builder().seed(7).build();
        assertEquals(0.8f, p.temperature());
        assertEquals(40, p.topK());
        assertEquals(0.95f, p.topP());
        assertEquals(0.05f, p.minP());
        assertEquals(1.0f, p.repetitionPenalty());
        assertEquals(64, p.repetitionLastN());
        assertEquals(7L, p.seed());
        assertFalse(p.isGreedy());
    }

    @Test
    void greedyHasTemperatureZero() {
        SamplingParams g = SamplingParams.greedy();
        assertEquals(0f, g.temperature());
        assertTrue(g.isGreedy());
        assertEquals(1.0f, g.repetitionPenalty());
        assertTrue(SamplingParams.builder().temperature(0f).build().isGreedy());
    }

    @Test
    void negativeZeroTemperatureIsGreedyAndNormalized() {
        SamplingParams p = SamplingParams.builder().temperature(-0f).seed(1).build();
        assertTrue(p.isGreedy());
        assertEquals(SamplingParams.builder().temperature(0f).seed(1).build(), p);
    }

    @Test
    void unsetSeedIsDrawnPerBuild() {
        SamplingParams.Builder b = SamplingParams.builder();
        // 64-bit random seeds: a collision here would be astronomically unlikely
        assertNotEquals(b.build().seed(), b.build().seed());
    }

    @Test
    void toBuilderRoundTripsEverythingIncludingSeed() {
        SamplingParams p = SamplingParams.builder()
                .temperature(1.3f).topK(5).topP(0.5f).minP(0.2f)
                .repetitionPenalty(1.1f).repetitionLastN(16).seed(99).build();
        assertEquals(p, p.toBuilder().build());
        SamplingParams q = p.toBuilder().topK(0).build();
        assertEquals(0, q.topK());
        assertEquals(99L, q.seed());
        assertEquals(1.3f, q.temperature());
    }

    @Test
    void boundaryValuesAreAccepted() {
        SamplingParams p = SamplingParams.builder()
                .temperature(0f).topK(0).topP(1f).minP(0f)
                .repetitionPenalty(Float.MIN_VALUE).repetitionLastN(0).seed(0).build();
        assertEquals(0, p.topK());
        SamplingParams q = SamplingParams.builder()
                .topP(Float.MIN_VALUE).minP(Math.nextDown(1f)).temperature(Float.MAX_VALUE)
                .topK(Integer.MAX_VALUE).repetitionPenalty(Float.MAX_VALUE)
                .repetitionLastN(Integer.MAX_VALUE).build();
        assertEquals(Float.MIN_VALUE, q.topP());
    }

    static Stream<Arguments> invalidValues() {
        float nan = Float.NaN;
        float inf = Float.POSITIVE_INFINITY;
        float ninf = Float.NEGATIVE_INFINITY;
        return Stream.of(
                arguments("temperature", -0.1f, op(b -> b.temperature(-0.1f))),
                arguments("temperature", nan, op(b -> b.temperature(nan))),
                arguments("temperature", inf, op(b -> b.temperature(inf))),
                arguments("temperature", ninf, op(b -> b.temperature(ninf))),
                arguments("topK", -1, op(b -> b.topK(-1))),
                arguments("topK", Integer.MIN_VALUE, op(b -> b.topK(Integer.MIN_VALUE))),
                arguments("topP", 0f, op(b -> b.topP(0f))),
                arguments("topP", -0.5f, op(b -> b.topP(-0.5f))),
                arguments("topP", 1.5f, op(b -> b.topP(1.5f))),
                arguments("topP", Math.nextUp(1f), op(b -> b.topP(Math.nextUp(1f)))),
                arguments("topP", nan, op(b -> b.topP(nan))),
                arguments("topP", inf, op(b -> b.topP(inf))),
                arguments("topP", ninf, op(b -> b.topP(ninf))),
                arguments("minP", -0.01f, op(b -> b.minP(-0.01f))),
                arguments("minP", 1f, op(b -> b.minP(1f))),
                arguments("minP", 2f, op(b -> b.minP(2f))),
                arguments("minP", nan, op(b -> b.minP(nan))),
                arguments("minP", inf, op(b -> b.minP(inf))),
                arguments("minP", ninf, op(b -> b.minP(ninf))),
                arguments("repetitionPenalty", 0f, op(b -> b.repetitionPenalty(0f))),
                arguments("repetitionPenalty", -1f, op(b -> b.repetitionPenalty(-1f))),
                arguments("repetitionPenalty", nan, op(b -> b.repetitionPenalty(nan))),
                arguments("repetitionPenalty", inf, op(b -> b.repetitionPenalty(inf))),
                arguments("repetitionPenalty", ninf, op(b -> b.repetitionPenalty(ninf))),
                arguments("repetitionLastN", -1, op(b -> b.repetitionLastN(-1))),
                arguments("repetitionLastN", Integer.MIN_VALUE, op(b -> b.repetitionLastN(Integer.MIN_VALUE))));
    }

    private static UnaryOperator<SamplingParams.Builder> op(UnaryOperator<SamplingParams.Builder> f) {
        return f;
    }

    @ParameterizedTest(name = "{0} = {1}")
    @MethodSource("invalidValues")
    void invalidValueIsRejectedByName(String parameter, Number value, UnaryOperator<SamplingParams.Builder> set) {
        SamplingParams.Builder builder = set.apply(SamplingParams.builder().seed(1));
        InvalidSamplingParameterException e =
                assertThrows(InvalidSamplingParameterException.class, builder::build);
        assertEquals(parameter, e.parameter());
        assertEquals(value, e.value());
        assertTrue(e.getMessage().startsWith("sampling parameter '" + parameter + "' "), e.getMessage());
        assertTrue(e.getMessage().endsWith(", got " + value), e.getMessage());
        assertInstanceOf(GearbxException.class, e);
    }

    @Test
    void messageFormat() {
        InvalidSamplingParameterException e = assertThrows(InvalidSamplingParameterException.class,
                () -> SamplingParams.builder().topP(1.5f).build());
        assertEquals("sampling parameter 'topP' must be in (0, 1], got 1.5", e.getMessage());
    }

    @Test
    void directConstructionValidatesToo() {
        InvalidSamplingParameterException e = assertThrows(InvalidSamplingParameterException.class,
                () -> new SamplingParams(0.8f, 40, 0.95f, 0.05f, 1f, -3, 1L));
        assertEquals("repetitionLastN", e.parameter());
        assertEquals(-3, e.value());
        e = assertThrows(InvalidSamplingParameterException.class,
                () -> new SamplingParams(Float.NaN, 40, 0.95f, 0.05f, 1f, 64, 1L));
        assertEquals("temperature", e.parameter());
        assertEquals("sampling parameter 'temperature' must be finite and >= 0, got NaN", e.getMessage());
    }
}
