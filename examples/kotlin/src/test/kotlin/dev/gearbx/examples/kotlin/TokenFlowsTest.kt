package dev.gearbx.examples.kotlin

import dev.gearbx.engine.gear.Gear
import dev.gearbx.engine.generate.Generation
import dev.gearbx.engine.generate.GenerationRequest
import dev.gearbx.engine.generate.Generator
import dev.gearbx.engine.generate.StopReason
import dev.gearbx.engine.model.LlamaModel
import dev.gearbx.engine.routing.RoutingOptions
import java.nio.file.Path
import java.time.Duration
import java.util.concurrent.CompletableFuture
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger
import kotlin.test.AfterTest
import kotlin.test.BeforeTest
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertTrue
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.reactive.asFlow
import reactor.core.publisher.Flux
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.flow.onEach
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import reactor.test.StepVerifier

/** Greedy generation on the real stories260K.gguf, consumed as a Flow and cancelled from coroutines. */
class TokenFlowsTest {
    private lateinit var model: LlamaModel
    private lateinit var generator: Generator

    private val reference = ", there was a little girl named Lily. She loved to play outside in the park. One day, she saw"
    private val referenceIds = listOf(432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338)

    private fun request(maxTokens: Int = 32): GenerationRequest =
        GenerationRequest.builder("Once upon a time").maxTokens(maxTokens)
            .routing(RoutingOptions.pinned(Gear.HIGH)).build()

    @BeforeTest
    fun load() {
        model = LlamaModel.load(Path.of(System.getProperty("gearbx.models"), "stories260K.gguf"))
        generator = Generator(model)
    }

    @AfterTest
    fun close() = model.close()

    @Test
    fun firstTokensOfAGreedyGenerationAreTheReference() = runBlocking {
        val ids = tokens(generator, request()).take(referenceIds.size).toList().map { it.tokenId() }
        assertEquals(referenceIds, ids)
        val text = firstTokens(generator, request(), 12).joinToString("")
        assertTrue(reference.startsWith(text) && text.startsWith(", there was a little girl named Lily."), text)
    }

    @Test
    fun takeCancelsTheFluxAndClosesTheGeneration() = runBlocking {
        val closed = CompletableDeferred<Generation>()
        val closes = AtomicInteger()
        val produced = AtomicInteger()
        var cancelled = false
        val flux = engineTokens(generator, request()) { closes.incrementAndGet(); closed.complete(it) }
            .doOnNext { produced.incrementAndGet() }
            .doOnCancel { cancelled = true }
        val got = flux.asFlowOneByOne().take(3).toList()
        assertEquals(3, got.size)
        assertTrue(cancelled, "take(3) must cancel the Flux")
        // the step in flight (at most one) finishes on the worker, then the generation is closed
        val generation = withTimeout(10_000) { closed.await() }
        assertEquals(1, closes.get(), "the generation is closed exactly once")
        assertEquals(StopReason.CANCELLED, generation.stopReason())
        assertFalse(generation.hasNext(), "a closed generation computes nothing more")
        assertTrue(produced.get() <= 4, "at most one token ahead of demand, produced ${produced.get()}")
    }

    @Test
    fun cancellingTheScopeClosesTheGeneration() = runBlocking {
        val closed = CompletableDeferred<Generation>()
        val seen = CopyOnWriteArrayList<String>()
        val twoSeen = CompletableDeferred<Unit>()
        val job = launch {
            tokens(generator, request(maxTokens = 200)) { closed.complete(it) }
                .onEach { if (seen.size == 1) twoSeen.complete(Unit) }
                .collect { seen += it.text() }
        }
        twoSeen.await()
        job.cancelAndJoin()
        val generation = withTimeout(10_000) { closed.await() }
        assertEquals(StopReason.CANCELLED, generation.stopReason())
        assertTrue(seen.size in 2..3, "collection stopped with the scope, saw ${seen.size}")
        assertTrue(generation.result().tokenIds().size < 200, "generation stopped early")
    }

    @Test
    fun fluxHonoursDemandAndClosesOnCompletion() {
        val closed = CompletableFuture<Generation>()
        StepVerifier.create(engineTokens(generator, request(maxTokens = 5)) { closed.complete(it) }, 0)
            .expectSubscription()
            .expectNoEvent(Duration.ofMillis(50))
            .thenRequest(1)
            .expectNextMatches { it.tokenId() == referenceIds[0] }
            .thenRequest(10)
            .expectNextCount(4)
            .verifyComplete()
        // Flux.generate cleans its state up on the generating thread after it signals completion: wait for the
        // close instead of expecting it to have happened already (failed once in a fresh-clone CI run)
        assertEquals(StopReason.MAX_TOKENS, closed.get(10, TimeUnit.SECONDS).stopReason())
    }

    private fun <T : Any> Flux<T>.asFlowOneByOne() = asFlow().buffer(Channel.RENDEZVOUS)
}
