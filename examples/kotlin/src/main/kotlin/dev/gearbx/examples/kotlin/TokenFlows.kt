package dev.gearbx.examples.kotlin

import dev.gearbx.engine.generate.GeneratedToken
import dev.gearbx.engine.generate.Generation
import dev.gearbx.engine.generate.GenerationRequest
import dev.gearbx.engine.generate.Generator
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.map
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.reactive.asFlow
import dev.gearbx.reactive.GearbxModel
import dev.gearbx.reactive.StreamChunk
import dev.gearbx.reactive.StreamOptions
import reactor.core.publisher.Flux
import reactor.core.scheduler.Schedulers

/**
 * The engine's synchronous generation loop as a cold [Flux]: every subscription starts its own
 * [Generation], each request pulls exactly one token per `onNext` (one forward step), and the
 * generation is closed — its KV cache released — on completion, error *and* cancellation. The
 * blocking steps run on a `boundedElastic` worker (one per subscription, so the not thread-safe
 * Generation stays on one thread at a time), never on the subscriber's thread: a coroutine
 * collecting it suspends between tokens, which is what lets a scope cancel it.
 * [onClose] is called after closing (tests use it to see that a cancelled collection really
 * stopped the generation).
 *
 * This is the stand-in for gearbx-reactive's `stream(prompt, options)`; switching over is the one
 * line in [tokens] below.
 */
fun engineTokens(
    generator: Generator,
    request: GenerationRequest,
    onClose: (Generation) -> Unit = {},
): Flux<GeneratedToken> =
    Flux.generate(
        { generator.start(request) },
        { generation, sink ->
            if (generation.hasNext()) sink.next(generation.next()) else sink.complete()
            generation
        },
        { generation ->
            generation.close()
            onClose(generation)
        },
    ).subscribeOn(Schedulers.boundedElastic())

/**
 * The tokens of [request] as a Kotlin [Flow]. The Flux is bridged with `asFlow()`; a rendezvous
 * buffer makes the bridge request one token at a time, so a collector that stops early (`take`,
 * `first`, scope cancellation) costs at most one step beyond what it consumed, and the
 * cancellation reaches the Flux, which closes the generation.
 */
fun tokens(generator: Generator, request: GenerationRequest, onClose: (Generation) -> Unit = {}): Flow<GeneratedToken> =
    engineTokens(generator, request, onClose) // later: gearbx.stream(request.prompt(), options)
        .asFlow()
        .buffer(Channel.RENDEZVOUS)

/** The text of the first [count] tokens of [request], collected in the caller's coroutine. */
suspend fun firstTokens(generator: Generator, request: GenerationRequest, count: Int): List<String> =
    tokens(generator, request).take(count).map { it.text() }.toList()

/**
 * gearbx-reactive's stream as a Kotlin [Flow]: `model.stream(...)` is a cold, demand-driven
 * `Flux<StreamChunk>` (each request computes one token, cancellation frees the KV cache), so
 * `asFlow()` with a rendezvous buffer pulls one token per collected element and cancelling the
 * collecting coroutine cancels the stream.
 */
fun GearbxModel.chunks(prompt: String, options: StreamOptions = StreamOptions.defaults()): Flow<StreamChunk> =
    stream(prompt, options).asFlow().buffer(Channel.RENDEZVOUS)
