package dev.gearbx.engine.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.model.LlamaModel;
import dev.gearbx.engine.routing.Entropy;
import dev.gearbx.engine.routing.RoutingOptions;
import dev.gearbx.engine.routing.TopKEntropy;
import dev.gearbx.engine.tensor.Kernels;
import dev.gearbx.engine.testing.TestModels;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Top-k log-probabilities per step (issue 9: OpenAI's top_logprobs) and the truncated entropy. */
class TopLogprobsTest {

    @Test
    void topLogprobsMatchTheFullDistributionOfStories260K() {
        try (LlamaModel m = LlamaModel.load(TestModels.stories260K(), Kernels.preferred())) {
            List<GeneratedToken> tokens = new ArrayList<>();
            new Generator(m).generate(GenerationRequest.builder("Once upon a time").maxTokens(8)
                    .routing(RoutingOptions.pinned(Gear.HIGH)).topLogprobs(20).build(), tokens::add);
            assertEquals(8, tokens.size());
            // the reference top-5 after the prompt (llama.cpp and llama2.c, ../shared/models/README.md)
            List<TokenLogprob> first = tokens.get(0).topLogprobs();
            assertEquals(20, first.size());
            assertEquals(List.of(432, 383, 322, 353, 323), first.subList(0, 5).stream().map(TokenLogprob::tokenId).toList());
            assertEquals(0.968795, Math.exp(first.get(0).logProbability()), 2e-5);
            assertEquals(0.028729, Math.exp(first.get(1).logProbability()), 2e-5);
            assertEquals(",", first.get(0).text());
            assertEquals(" there", first.get(1).text());
            for (GeneratedToken t : tokens) {
                List<TokenLogprob> top = t.topLogprobs();
                for (int i = 1; i < top.size(); i++) {
                    assertTrue(top.get(i - 1).logProbability() >= top.get(i).logProbability(), "sorted, most likely first");
                }
                // greedy: the chosen token is the most likely one, with the same log-probability
                assertEquals(t.tokenId(), top.get(0).tokenId());
                assertEquals(t.logProbability(), top.get(0).logProbability());
                float truncated = TopKEntropy.bits(top, TokenLogprob::logProbability);
                assertTrue(truncated <= t.entropy() + 1e-4f, "a lower bound: " + truncated + " vs " + t.entropy());
                assertTrue(truncated > 0);
            }
        }
    }

    @Test
    void noTopLogprobsUnlessAsked() {
        try (LlamaModel m = LlamaModel.load(TestModels.stories260K(), Kernels.preferred())) {
            GeneratedToken t = new Generator(m).start(GenerationRequest.builder("Hi").maxTokens(1).build()).next();
            assertTrue(t.topLogprobs().isEmpty());
        }
        assertThrows(IllegalArgumentException.class, () -> GenerationRequest.builder("x").topLogprobs(21).build());
    }

    @Test
    void truncatedEntropyDefinition() {
        // all the mass listed: the full entropy (two equal outcomes: 1 bit)
        float half = (float) Math.log(0.5);
        assertEquals(1f, TopKEntropy.bits(new float[] {half, half}, 2), 1e-6f);
        // one listed token of p = 0.5: the tail (0.5) is one outcome, so 1 bit as well
        assertEquals(1f, TopKEntropy.bits(new float[] {half}, 1), 1e-6f);
        // certain: 0 bits; -inf entries are skipped; an empty list leaves a tail of 1: 0 bits
        assertEquals(0f, TopKEntropy.bits(new float[] {0f, Float.NEGATIVE_INFINITY}, 2), 0f);
        assertEquals(0f, TopKEntropy.bits(new float[0], 0), 0f);
        // with the whole vocabulary listed it is the full entropy
        float[] logits = {2f, 1f, 0.5f, -1f, -3f};
        double max = 2, sum = 0;
        for (float z : logits) {
            sum += Math.exp(z - max);
        }
        float[] lp = new float[logits.length];
        for (int i = 0; i < lp.length; i++) {
            lp[i] = (float) (logits[i] - max - Math.log(sum));
        }
        assertEquals(Entropy.bits(logits, logits.length), TopKEntropy.bits(lp, lp.length), 1e-5f);
    }
}
