package dev.gearbx.reactive;

import dev.gearbx.engine.generate.GeneratedToken;
import dev.gearbx.engine.generate.GenerationRequest;
import dev.gearbx.engine.generate.GenerationResult;
import dev.gearbx.reactive.spi.Sequence;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import reactor.core.Exceptions;
import reactor.core.publisher.FluxSink;
import reactor.core.scheduler.Scheduler;

/**
 * Drives one stream: a sequence pulled on a worker of the model's compute scheduler, one decode
 * step per unit of downstream demand.
 *
 * <p>Every signal of the sink (request, cancel) only schedules a drain; the drain runs on the
 * stream's worker, so the sequence is touched by one thread at a time and no caller ever blocks.
 * A drain computes tokens while there is demand, checking cancellation before each step, and
 * yields its thread after {@link #SLICE_NANOS} so that streams sharing a thread take turns. A
 * sequence that is not {@link Sequence#ready() ready} (a remote one waiting for the network) ends
 * the drain; its {@link Sequence#whenReady} callback schedules the next one.
 */
final class ChunkSource implements Runnable {
    /** A drain gives its thread back after this long (at least one step), if demand remains. */
    static final long SLICE_NANOS = 2_000_000;

    private final GearbxModel model;
    private final GenerationRequest request;
    private final FluxSink<StreamChunk> sink;
    private final Scheduler.Worker worker;
    private final @Nullable Consumer<GenerationResult> onResult;
    private final Function<GenerationRequest, Sequence> opener;
    private final AtomicInteger wip = new AtomicInteger();
    private volatile boolean cancelled;
    private volatile boolean finished;

    // touched by the worker only
    private @Nullable Sequence sequence;
    private @Nullable Observation observation;
    private boolean started;
    private long forwardsSeen;
    private long kvBytes;
    private long startNanos;
    private int emitted;
    private boolean budgetSpent;

    private ChunkSource(GearbxModel model, GenerationRequest request, FluxSink<StreamChunk> sink,
            @Nullable Consumer<GenerationResult> onResult, Function<GenerationRequest, Sequence> opener) {
        this.model = model;
        this.request = request;
        this.sink = sink;
        this.onResult = onResult;
        this.opener = opener;
        this.worker = model.scheduler().createWorker();
    }

    /**
     * Drives {@code sink} from the sequence that {@code opener} starts for {@code request} at the
     * first demand.
     */
    static void attach(GearbxModel model, GenerationRequest request, FluxSink<StreamChunk> sink,
            @Nullable Consumer<GenerationResult> onResult, Function<GenerationRequest, Sequence> opener) {
        ChunkSource s = new ChunkSource(model, request, sink, onResult, opener);
        // the cancel hook first: onRequest may start the worker at once (demand already there), and a
        // cancel before the hook existed would let the stream run on until the hook's late registration
        sink.onDispose(() -> {
            s.cancelled = true;
            s.schedule();
        });
        sink.onRequest(n -> s.schedule());
    }

    private void schedule() {
        if (finished) {
            return;
        }
        if (wip.getAndIncrement() == 0) {
            try {
                worker.schedule(this);
            } catch (RejectedExecutionException e) {
                // the model was closed: nothing can run any more
                finished = true;
                worker.dispose();
                sink.error(new IllegalStateException("the gearbx model is closed", e));
            }
        }
    }

    @Override
    public void run() {
        int missed = wip.get();
        for (;;) {
            if (drain()) {
                // demand remains: give the thread to the other streams on it, then go on
                wip.set(1);
                try {
                    worker.schedule(this);
                } catch (RejectedExecutionException e) {
                    fail(new IllegalStateException("the gearbx model is closed", e));
                }
                return;
            }
            missed = wip.addAndGet(-missed);
            if (missed == 0) {
                return;
            }
        }
    }

    /** Computes tokens while there is demand; true if it stopped for its time slice with demand left. */
    private boolean drain() {
        if (finished) {
            return false;
        }
        long deadline = System.nanoTime() + SLICE_NANOS;
        try {
            while (true) {
                if (cancelled) {
                    end(null);
                    return false;
                }
                Sequence spent = sequence;
                if (budgetSpent && spent != null) {
                    finishAfterBudget(spent);
                    return false;
                }
                if (sink.requestedFromDownstream() <= 0) {
                    return false;
                }
                Sequence s = sequence;
                if (s == null) {
                    s = open();
                }
                if (!s.ready()) {
                    // a remote step waits on I/O: give the thread back; the sequence wakes us up
                    s.whenReady(this::schedule);
                    return false;
                }
                boolean more = s.hasNext();
                account(s);
                if (!more) {
                    end(null);
                    sink.complete();
                    return false;
                }
                GeneratedToken t = s.next();
                StreamChunk chunk = StreamChunk.of(t);
                if (emitted++ == 0) {
                    long ttft = System.nanoTime() - startNanos;
                    model.forEachListener(l -> l.firstToken(ttft));
                }
                model.forEachListener(l -> l.token(chunk));
                sink.next(chunk);
                if (emitted >= request.maxTokens()) {
                    // the budget is spent: complete now, without waiting for demand to find out
                    finishAfterBudget(s);
                    return false;
                }
                if (System.nanoTime() - deadline >= 0) {
                    return !cancelled && sink.requestedFromDownstream() > 0;
                }
            }
        } catch (Throwable e) {
            Exceptions.throwIfJvmFatal(e);
            fail(e);
            return false;
        }
    }

    /**
     * After the last token the budget allows: lets the sequence see its end (a remote one may still
     * wait for its last events, e.g. the usage), then completes, whatever the demand.
     */
    private void finishAfterBudget(Sequence s) {
        if (!s.ready()) {
            budgetSpent = true;
            s.whenReady(this::schedule);
            return;
        }
        s.hasNext();
        end(null);
        sink.complete();
    }

    private Sequence open() {
        startNanos = System.nanoTime();
        started = true;
        model.streamStarted();
        model.forEachListener(GenerationListener::started);
        ObservationRegistry registry = model.observationRegistry();
        if (!registry.isNoop()) {
            observation = Observation.createNotStarted(GearbxModel.OBSERVATION_NAME, registry)
                    .contextualName("gearbx generate")
                    .lowCardinalityKeyValue("gearbx.backend", model.backendName())
                    .lowCardinalityKeyValue("gearbx.routing", request.routing().pinned() == null ? "routed"
                            : "pinned-" + request.routing().pinned().name().toLowerCase(java.util.Locale.ROOT))
                    .start();
        }
        Sequence s = opener.apply(request);
        sequence = s;
        kvBytes = s.kvCacheBytes();
        model.sequenceOpened(kvBytes);
        return s;
    }

    private void account(Sequence s) {
        long f = s.forwardPasses();
        model.forwards(f - forwardsSeen);
        forwardsSeen = f;
    }

    private void fail(Throwable e) {
        if (!finished) {
            end(e);
            sink.error(e);
        }
    }

    /** Closes the sequence (frees its KV cache) and reports the end; idempotent. */
    private void end(@Nullable Throwable error) {
        if (finished) {
            return;
        }
        finished = true;
        Sequence s = sequence;
        GenerationSummary summary = null;
        try {
            if (s != null) {
                s.close();
                model.sequenceClosed(kvBytes);
                GenerationResult result = s.result();
                summary = GenerationSummary.of(result);
                if (onResult != null && error == null) {
                    onResult.accept(result);
                }
            }
        } finally {
            if (started) {
                GenerationSummary done = summary;
                model.forEachListener(l -> l.ended(done, error));
                model.streamEnded();
            }
            Observation o = observation;
            if (o != null) {
                if (error != null) {
                    o.error(error);
                }
                if (summary != null) {
                    o.highCardinalityKeyValue("gearbx.tokens", Integer.toString(summary.tokens()));
                }
                o.stop();
            }
            worker.dispose();
        }
    }
}
