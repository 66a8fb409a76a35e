package dev.gearbx.engine.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.generate.GenerationRequest;
import dev.gearbx.engine.routing.RoutingOptions;
import dev.gearbx.engine.generate.GenerationResult;
import dev.gearbx.engine.generate.Generator;
import dev.gearbx.engine.generate.StopReason;
import dev.gearbx.engine.tensor.Kernels;
import dev.gearbx.engine.testing.TestModels;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** stories260K.gguf against llama.cpp's and llama2.c's outputs on the same file (see its README). */
class Stories260KReferenceTest {
    static final int[] PROMPT = {1, 403, 407, 261, 378};
    static final int[] REFERENCE = {432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337,
        410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426, 385, 328, 432, 358, 394};

    static Stream<Arguments> kernels() {
        return Stream.of(Arguments.of("vector", Kernels.vector()), Arguments.of("scalar", Kernels.scalar()));
    }

    @ParameterizedTest(name = "{0} kernels")
    @MethodSource("kernels")
    void greedyGenerationMatchesLlamaCpp(String name, Kernels kernels) {
        try (LlamaModel model = LlamaModel.load(TestModels.stories260K(), kernels)) {
            GenerationResult r = new Generator(model).generate(
                    GenerationRequest.builder("Once upon a time").maxTokens(32)
                            .routing(RoutingOptions.pinned(Gear.HIGH)).build());
            assertEquals(PROMPT.length, r.promptTokens());
            assertArrayEquals(REFERENCE, r.tokenIds());
            assertEquals(", there was a little girl named Lily. She loved to play outside in the park. One day, she saw",
                    r.text());
            assertEquals(StopReason.MAX_TOKENS, r.stopReason());
        }
    }

    @ParameterizedTest(name = "{0} kernels")
    @MethodSource("kernels")
    void nextTokenProbabilitiesMatchLlamaCpp(String name, Kernels kernels) {
        try (LlamaModel model = LlamaModel.load(TestModels.stories260K(), kernels)) {
            LlamaState state = model.newState(16);
            float[] logits = null;
            for (int t : PROMPT) {
                logits = model.forward(state, t);
            }
            float[] p = logits.clone();
            kernels.softmax(p, 0, p.length);
            // llama.cpp, F32 KV cache
            assertEquals(0.968795, p[432], 1e-3);
            assertEquals(0.028729, p[383], 1e-3);
            assertEquals(0.000297, p[322], 1e-4);
            assertEquals(0.000263, p[353], 1e-4);
            // llama2.c logits
            assertEquals(17.799398, logits[432], 1e-3);
            assertEquals(14.281259, logits[383], 1e-3);
        }
    }

    @Test
    void longerGreedyRunMatchesLlama2c() {
        String expected = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. "
                + "One day, she saw a big, red ball. She wanted to play with it, but it was too high.\n"
                + "Lily's mom said, \"Lily, let's go to the park.\" Lily was sad and didn't know what to do. "
                + "She said, \"I want to play with your ball, but I can't find it.\"\n"
                + "Lily was sad and didn't know what to do. She said, \"I'm sorry, Lily. I didn't know what to do.\"\n"
                + "Lily didn't want to help her mom, so she";
        try (LlamaModel model = LlamaModel.load(TestModels.stories260K())) {
            // run.c -n 200 runs 200 forward positions (5 of them the prompt), each sampling a token, and ignores EOS
            GenerationResult r = new Generator(model).generate(GenerationRequest.builder("Once upon a time")
                    .maxTokens(200 - PROMPT.length + 1).stopAtEndOfGeneration(false)
                    .routing(RoutingOptions.pinned(Gear.HIGH)).build());
            assertEquals(expected, "Once upon a time" + r.text().stripTrailing());
        }
    }

    @Test
    void stateRejectsMoreTokensThanItsCapacity() {
        try (LlamaModel model = LlamaModel.load(TestModels.stories260K())) {
            LlamaState state = model.newState(2);
            model.forward(state, 1);
            model.forward(state, 403);
            ContextOverflowException e = assertThrows(ContextOverflowException.class, () -> model.forward(state, 407));
            assertEquals(2, e.capacity());
            assertThrows(IllegalArgumentException.class, () -> model.newState(model.config().contextLength() + 1));
            assertThrows(IllegalArgumentException.class, () -> model.forward(model.newState(4), 512));
        }
    }
}
