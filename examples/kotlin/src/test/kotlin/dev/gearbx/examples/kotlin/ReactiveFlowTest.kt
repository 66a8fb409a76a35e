package dev.gearbx.examples.kotlin

import dev.gearbx.engine.gear.Gear
import dev.gearbx.engine.routing.RoutingOptions
import dev.gearbx.reactive.Gearbx
import dev.gearbx.reactive.GearbxModel
import dev.gearbx.reactive.StreamOptions
import java.nio.file.Path
import kotlin.test.AfterTest
import kotlin.test.BeforeTest
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertTrue
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.flow.map
import kotlinx.coroutines.flow.onEach
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout

/** gearbx-reactive's Flux<StreamChunk> consumed as a Kotlin Flow, cancelled through the coroutine scope. */
class ReactiveFlowTest {
    private lateinit var model: GearbxModel
    private val pinned = StreamOptions.builder().maxTokens(200).routing(RoutingOptions.pinned(Gear.HIGH)).build()

    @BeforeTest
    fun load() {
        val models = Path.of(System.getProperty("gearbx.models", "../../../shared/models"))
        model = Gearbx.builder().model(models.resolve("stories260K.gguf")).build()
    }

    @AfterTest
    fun close() = model.close()

    @Test
    fun collectsTheReferenceTextAsAFlow() = runBlocking {
        val text = model.chunks("Once upon a time", pinned).take(10).map { it.text() }.toList().joinToString("")
        assertEquals(", there was a little girl named Lily", text)
    }

    @Test
    fun cancellingTheScopeStopsTheStreamAndFreesTheKvCache() = runBlocking {
        val two = CompletableDeferred<Unit>()
        var seen = 0
        val job = launch {
            model.chunks("Once upon a time", pinned).onEach { if (++seen == 2) two.complete(Unit) }.toList()
        }
        withTimeout(30_000) { two.await() }
        job.cancelAndJoin()
        withTimeout(30_000) {
            while (model.liveSequences() != 0) kotlinx.coroutines.delay(10)
        }
        assertEquals(0L, model.kvCacheBytes())
        assertTrue(seen < 200, "stopped early: $seen tokens")
    }
}
