package dev.gearbx.reactive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.generate.StopReason;
import dev.gearbx.engine.model.ContextOverflowException;
import dev.gearbx.engine.routing.RoutingOptions;
import dev.gearbx.engine.sampling.SamplingParams;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/** Issue 6: demand, cancellation, concurrency and errors of GearbxModel.stream on stories260K. */
class GearbxStreamTest {
    static final Duration TIMEOUT = Duration.ofMinutes(2);
    static final StreamOptions HIGH = StreamOptions.builder().maxTokens(32).routing(RoutingOptions.pinned(Gear.HIGH))
            .sampling(SamplingParams.greedy()).build();
    static GearbxModel model;

    @BeforeAll
    static void load() {
        model = Gearbx.builder().model(ReactiveModels.stories260K()).computeThreads(2).build();
    }

    @AfterAll
    static void close() {
        model.close();
    }

    static int promptTokens(String prompt) {
        return model.generate(prompt, StreamOptions.builder().maxTokens(1).build()).block(TIMEOUT).promptTokens();
    }

    @Test
    void greedyPinnedHighGivesTheReferenceText() {
        String text = model.stream("Once upon a time", HIGH).map(StreamChunk::text).collect(Collectors.joining())
                .block(TIMEOUT);
        assertEquals(ReactiveModels.REFERENCE, text);
        GenerationSummary s = model.generate("Once upon a time", HIGH).block(TIMEOUT);
        assertEquals(ReactiveModels.REFERENCE, s.text());
        assertEquals(32, s.tokens());
        assertEquals(java.util.Map.of(Gear.HIGH, 1.0), s.gearShares());
        assertEquals(StopReason.MAX_TOKENS, s.stopReason());
    }

    @Test
    void requestOneComputesExactlyOneStep() {
        int prefill = promptTokens("Once upon a time") - 1;
        long before = model.forwardPasses();
        Flux<StreamChunk> flux = model.stream("Once upon a time", HIGH);
        assertEquals(before, model.forwardPasses(), "cold: assembling runs nothing");
        StepVerifier.create(flux, 0)
                .expectSubscription()
                .then(() -> pause())
                .then(() -> assertEquals(before, model.forwardPasses(), "subscribing without demand runs nothing"))
                .thenRequest(1)
                .expectNextMatches(c -> c.index() == 0)
                .then(() -> pause())
                .then(() -> assertEquals(before + prefill + 1, model.forwardPasses(), "request(1): the prompt and one step"))
                .thenRequest(5)
                .expectNextCount(5)
                .then(() -> pause())
                .then(() -> assertEquals(before + prefill + 6, model.forwardPasses(), "request(5): five more steps"))
                .thenCancel()
                .verify(TIMEOUT);
    }

    @Test
    void cancellingStopsWithinOneStepAndFreesTheKvCache() {
        long before = model.forwardPasses();
        int prefill = promptTokens("Once upon a time") - 1;
        long before2 = model.forwardPasses();
        AtomicInteger seen = new AtomicInteger();
        List<Long> kvWhileRunning = new ArrayList<>();
        BaseSubscriber<StreamChunk> s = new BaseSubscriber<>() {
            @Override
            protected void hookOnSubscribe(Subscription subscription) {
                request(Long.MAX_VALUE);
            }

            @Override
            protected void hookOnNext(StreamChunk chunk) {
                if (seen.incrementAndGet() == 3) {
                    kvWhileRunning.add(model.kvCacheBytes());
                    cancel();
                }
            }
        };
        model.stream("Once upon a time", StreamOptions.builder().maxTokens(200).stopAtEndOfGeneration(false).build())
                .subscribe(s);
        awaitCondition(() -> seen.get() >= 3 && model.liveSequences() == 0);
        pause();
        assertEquals(3, seen.get());
        assertTrue(kvWhileRunning.get(0) > 0, "the sequence held a KV cache while it ran");
        assertEquals(0, model.kvCacheBytes(), "KV cache returned");
        assertEquals(prefill + 3, model.forwardPasses() - before2, "no step after the cancel seen in onNext");
        assertTrue(before <= before2);

        // cancelling from another thread while steps run: at most the step in flight completes
        AtomicInteger n = new AtomicInteger();
        var d = model.stream("Once upon a time", StreamOptions.builder().maxTokens(400).stopAtEndOfGeneration(false).build())
                .subscribe(c -> n.incrementAndGet());
        awaitCondition(() -> n.get() >= 5);
        long at = model.forwardPasses();
        d.dispose();
        awaitCondition(() -> model.liveSequences() == 0);
        pause();
        assertTrue(model.forwardPasses() - at <= 1 + 1, "at most the step in flight (and one racing start) after cancel");
        assertEquals(0, model.kvCacheBytes());
        assertEquals(0, model.activeStreams());
    }

    @Test
    void eightConcurrentStreamsMatchSequentialRuns() {
        List<String> prompts = List.of("Once upon a time", "Tom and Sue", "The little dog", "One day", "Lily had a",
                "The sun was", "A big bear", "Mom said");
        StreamOptions o = StreamOptions.builder().maxTokens(40).sampling(SamplingParams.greedy()).build();
        List<List<Integer>> sequential = new ArrayList<>();
        for (String p : prompts) {
            sequential.add(model.stream(p, o).map(StreamChunk::tokenId).collectList().block(TIMEOUT));
        }
        List<List<Integer>> concurrent = Flux.fromIterable(prompts)
                .flatMapSequential(p -> model.stream(p, o).map(StreamChunk::tokenId).collectList(), 8)
                .collectList().block(TIMEOUT);
        assertEquals(sequential, concurrent);
        List<GenerationSummary> batch = model.generateBatch(prompts, o).collectList().block(TIMEOUT);
        for (int i = 0; i < prompts.size(); i++) {
            assertEquals(sequential.get(i), java.util.Arrays.stream(batch.get(i).tokenIds()).boxed().toList());
        }
        assertEquals(0, model.liveSequences());
    }

    @Test
    void aStalledSubscriberDoesNotHoldTheOnlyComputeThread() {
        try (GearbxModel one = Gearbx.builder().model(ReactiveModels.stories260K()).computeThreads(1).build()) {
            StreamOptions o = StreamOptions.builder().maxTokens(64).stopAtEndOfGeneration(false).build();
            AtomicInteger stalled = new AtomicInteger();
            BaseSubscriber<StreamChunk> slow = new BaseSubscriber<>() {
                @Override
                protected void hookOnSubscribe(Subscription subscription) {
                    request(1);
                }

                @Override
                protected void hookOnNext(StreamChunk value) {
                    stalled.incrementAndGet(); // and never requests again
                }
            };
            one.stream("Once upon a time", o).subscribe(slow);
            List<StreamChunk> fast = one.stream("Tom and Sue", o).collectList().block(TIMEOUT);
            assertEquals(64, fast.size());
            assertEquals(1, stalled.get());
            assertEquals(1, one.liveSequences(), "the stalled stream keeps its sequence, not a thread");
            slow.cancel();
            awaitCondition(() -> one.liveSequences() == 0);
        }
    }

    @Test
    void aPromptBeyondTheContextIsAContextOverflowError() {
        String longPrompt = "Once upon a time there was a dog. ".repeat(model.contextLength());
        StepVerifier.create(model.stream(longPrompt), 0)
                .expectSubscription()
                .thenRequest(1)
                .expectError(ContextOverflowException.class)
                .verify(TIMEOUT);
        assertEquals(0, model.activeStreams());
    }

    @Test
    void stopSequenceAndTokenBudgetAreOperators() {
        String text = model.stream("Once upon a time", HIGH).transform(GearbxOperators.stopSequences("Lily"))
                .map(StreamChunk::text).collect(Collectors.joining()).block(TIMEOUT);
        assertEquals(", there was a little girl named ", text);
        int prefill = promptTokens("Once upon a time") - 1;
        long before = model.forwardPasses();
        List<StreamChunk> five = model.stream("Once upon a time", HIGH).transform(GearbxOperators.tokenBudget(5))
                .collectList().block(TIMEOUT);
        assertEquals(5, five.size());
        awaitCondition(() -> model.liveSequences() == 0);
        assertEquals(prefill + 5, model.forwardPasses() - before, "the budget limits demand: no step beyond it");
    }

    static void pause() {
        try {
            Thread.sleep(150);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static void awaitCondition(java.util.function.BooleanSupplier condition) {
        long end = System.nanoTime() + TIMEOUT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("condition not met within " + TIMEOUT);
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }
}
