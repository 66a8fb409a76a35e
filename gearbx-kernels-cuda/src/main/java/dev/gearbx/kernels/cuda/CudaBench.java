package dev.gearbx.kernels.cuda;

import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.model.ModelShape;
import dev.gearbx.engine.routing.Router;
import dev.gearbx.engine.routing.RoutingOptions;
import dev.gearbx.engine.routing.Thresholds;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Decode benchmark of the CUDA backend on synthetic models made on the device (a program, not a test; it
 * prints a table). For each shape: the card's device-to-device copy bandwidth (bytes read plus written), then
 * tokens/s pinned at each gear with the default launch options and with natural-order inputs (median and range
 * of several timed runs of {@code tokens} back-to-back steps, timed with CUDA events, no host sync inside), each
 * gear's effective bandwidth (weight bytes read per token times tokens/s) against the copy bandwidth, the time
 * of the GEMVs and of the other kernels apart, the LOW/HIGH ratio, and a routed run (entropy read back every 8
 * steps, the engine's {@link Router}).
 *
 * <pre>
 * java -cp ... dev.gearbx.kernels.cuda.CudaBench [shape,...] [tokens] [runs] [outputInGears]
 * shapes: llama-3.2-1b, llama-3-8b (default both); tokens 128; runs 5; outputInGears true, false or both (default)
 * </pre>
 *
 * <p>With {@code -Dgearbx.bench.quick=true} only the first configuration and the parts run (no comparison
 * configurations, routed or sampled runs): for comparing kernel builds side by side in little device time.
 */
public final class CudaBench {
    /** Llama-3.2-1B: dim 2048, 16 layers, 32 heads, 8 KV heads, ffn 8192, vocabulary 128256. */
    static final ModelShape LLAMA_32_1B = new ModelShape("llama-3.2-1b", 2048, 16, 32, 8, 8192, 128256, 4096);
    /** Llama-3-8B: dim 4096, 32 layers, 32 heads, 8 KV heads, ffn 14336, vocabulary 128256. */
    static final ModelShape LLAMA_3_8B = new ModelShape("llama-3-8b", 4096, 32, 32, 8, 14336, 128256, 4096);

    /** {@code -Dgearbx.bench.quick=true}: the first configuration and the parts only. */
    private static final boolean QUICK = Boolean.getBoolean("gearbx.bench.quick");

    private CudaBench() {}

    public static void main(String[] args) {
        List<ModelShape> shapes = new ArrayList<>();
        for (String s : (args.length > 0 ? args[0] : "llama-3.2-1b,llama-3-8b").split(",")) {
            shapes.add(switch (s) {
                case "llama-3.2-1b" -> LLAMA_32_1B;
                case "llama-3-8b" -> LLAMA_3_8B;
                default -> throw new IllegalArgumentException("unknown shape '" + s + "' (llama-3.2-1b, llama-3-8b)");
            });
        }
        int tokens = args.length > 1 ? Integer.parseInt(args[1]) : 128;
        int runs = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        String output = args.length > 3 ? args[3] : "both";
        try (CudaDevice device = CudaDevice.open(0)) {
            double copy = copyBandwidth(device);
            System.out.printf(Locale.ROOT, "device: %s (compute %s, %d MiB); copy bandwidth %.0f GB/s (read + write); "
                            + "kernels %s, dependent launch %s; %.1f DRAM bytes per SM cycle: nested GEMVs by shape "
                            + "take the %s table%n", device.name(), device.computeCapability(),
                    device.totalMemory() >> 20, copy / 1e9, device.ptxResource(),
                    device.dependentLaunch() ? "available" : "unavailable (" + device.dependentLaunchAbsence() + ")",
                    device.dramBytesPerCycle(),
                    StepOptions.NestedKernels.BY_SHAPE.forCard(device.dramBytesPerCycle())
                            == StepOptions.NestedKernels.BY_SHAPE_RING ? "ring" : "register");
            for (ModelShape shape : shapes) {
                for (boolean outputInGears : output.equals("both") ? new boolean[] {true, false}
                        : new boolean[] {Boolean.parseBoolean(output)}) {
                    run(device, shape, tokens, runs, outputInGears, copy);
                }
            }
        }
    }

    /** Median over 10 copies of 1 GiB, counting bytes read and written. */
    static double copyBandwidth(CudaDevice device) {
        long bytes = 1L << 30;
        DeviceBuffer a = device.alloc(bytes, "copy source");
        DeviceBuffer b = device.alloc(bytes, "copy target");
        try {
            device.launch(Launch.of(device, "fill_random_f16", 4096, 256, a, bytes / 2, 1L, 1f));
            device.copy(b, a, bytes);
            float[] ms = new float[10];
            for (int i = 0; i < ms.length; i++) {
                ms[i] = device.time(() -> device.copy(b, a, bytes));
            }
            Arrays.sort(ms);
            return 2.0 * bytes / (ms[ms.length / 2] / 1e3);
        } finally {
            device.free(a);
            device.free(b);
        }
    }

    static void run(CudaDevice device, ModelShape shape, int tokens, int runs, boolean outputInGears, double copy) {
        DeviceShape s = DeviceShape.of(shape, 500000f);
        long t0 = System.nanoTime();
        try (DeviceWeights w = DeviceWeights.synthetic(device, s, 32, 42, outputInGears)) {
            System.out.printf(Locale.ROOT, "%n== %s: %s; made in %.1f s; %d MiB of weights on the device "
                            + "(LOW %d, MID %d, HIGH %d MiB resident per gear)%n", shape.name(), w.description(),
                    (System.nanoTime() - t0) / 1e9, w.residentBytes() >> 20, w.residentBytes(Gear.LOW) >> 20,
                    w.residentBytes(Gear.MID) >> 20, w.residentBytes(Gear.HIGH) >> 20);
            Map<Gear, Double> best = new EnumMap<>(Gear.class);
            System.out.println("gear  options                                launches  MB/token  tok/s median [min..max]  ms/token  GB/s eff.  % of copy");
            StepOptions chosen = StepOptions.fromSystemProperties();
            // the other nested table than the one the chosen options run on this card, side by side
            StepOptions.NestedKernels table = chosen.nested().forCard(device.dramBytesPerCycle());
            StepOptions otherTable = chosen.withNested(table == StepOptions.NestedKernels.BY_SHAPE_RING
                    ? StepOptions.NestedKernels.BY_SHAPE_REGISTERS : StepOptions.NestedKernels.BY_SHAPE_RING);
            StepOptions[] configurations = QUICK ? new StepOptions[] {chosen} : new StepOptions[] {chosen,
                    chosen.withFusedNorm(false), chosen.withPersistentLow(chosen.persistentLow()
                            == StepOptions.PersistentLow.OFF ? StepOptions.PersistentLow.R4D4
                            : StepOptions.PersistentLow.OFF), otherTable};
            for (StepOptions o : configurations) {
                try (DeviceDecoder d = new DeviceDecoder(device, w, tokens + 16, o)) {
                    if (!d.persistentLowAbsenceReason().isEmpty()) {
                        System.out.println("(no persistent LOW kernel: " + d.persistentLowAbsenceReason() + ")");
                    }
                    for (Gear gear : new Gear[] {Gear.LOW, Gear.MID, Gear.HIGH}) {
                        double[] tps = new double[runs];
                        for (int r = 0; r < runs; r++) {
                            d.setPosition(0);
                            d.setToken(1);
                            for (int i = 0; i < 8; i++) {
                                d.step(gear, true); // warm-up (and graph capture)
                            }
                            float ms = device.time(() -> {
                                for (int i = 0; i < tokens; i++) {
                                    d.step(gear, true);
                                }
                            });
                            tps[r] = tokens / (ms / 1e3);
                        }
                        Arrays.sort(tps);
                        double median = tps[runs / 2];
                        long bytes = w.bytesReadPerToken(gear);
                        double eff = bytes * median;
                        best.merge(gear, median, Math::max);
                        System.out.printf(Locale.ROOT, "%-5s %-38s %8d  %8.1f  %8.1f [%.1f..%.1f]  %8.3f  %9.0f  %8.1f%%%n",
                                gear, o, d.launchesPerStep(), bytes / 1e6, median, tps[0], tps[runs - 1],
                                1e3 / median, eff / 1e9, 100 * eff / copy);
                    }
                }
            }
            parts(device, w, tokens);
            System.out.printf(Locale.ROOT, "LOW/HIGH ratio (best configuration of each gear): %.2fx; MID/HIGH %.2fx%n",
                    best.get(Gear.LOW) / best.get(Gear.HIGH), best.get(Gear.MID) / best.get(Gear.HIGH));
            if (!QUICK) {
                routed(device, w, tokens);
                sampled(device, w, tokens);
            }
        }
    }

    /**
     * Sampled decode (temperature 0.8, top-k 40, top-p 0.95, min-p 0.05) at LOW and HIGH: top-k on the device
     * (graph replays, no readback) against the logits read back every step and sampled by the engine's sampler on
     * the host (the path such requests took before, and still take for what the device does not sample).
     */
    static void sampled(CudaDevice device, DeviceWeights w, int tokens) {
        dev.gearbx.engine.sampling.SamplingParams params =
                new dev.gearbx.engine.sampling.SamplingParams(0.8f, 40, 0.95f, 0.05f, 1f, 64, 1L);
        int vocab = w.shape().vocabularySize();
        DeviceSampling sampling = java.util.Objects.requireNonNull(DeviceSampling.of(params, vocab), "device sampling");
        StringBuilder line = new StringBuilder("sampled decode (T 0.8, top-k 40, top-p 0.95, min-p 0.05), tok/s:");
        try (DeviceDecoder onDevice = new DeviceDecoder(device, w, tokens + 16, StepOptions.DEFAULT, sampling);
                DeviceDecoder host = new DeviceDecoder(device, w, tokens + 16, StepOptions.DEFAULT)) {
            onDevice.setUniforms(0, sampling.uniforms(tokens + 16));
            for (Gear gear : new Gear[] {Gear.LOW, Gear.HIGH}) {
                double[] dvc = new double[3];
                double[] hst = new double[3];
                for (int r = 0; r < 3; r++) {
                    onDevice.setPosition(0);
                    onDevice.setToken(1);
                    for (int i = 0; i < 8; i++) {
                        onDevice.step(gear, true);
                    }
                    float ms = device.time(() -> {
                        for (int i = 0; i < tokens; i++) {
                            onDevice.step(gear, true);
                        }
                    });
                    dvc[r] = tokens / (ms / 1e3);
                    dev.gearbx.engine.sampling.Sampler sampler = dev.gearbx.engine.sampling.Sampler.of(params);
                    host.setPosition(0);
                    host.setToken(1);
                    long t0 = 0;
                    for (int i = 0; i < tokens + 8; i++) {
                        if (i == 8) {
                            t0 = System.nanoTime();
                        }
                        host.step(gear, true);
                        float[] logits = host.logits();
                        int token = sampler.sample(logits, vocab);
                        sampler.accept(token);
                        host.setToken(token);
                    }
                    hst[r] = tokens / ((System.nanoTime() - t0) / 1e9);
                }
                Arrays.sort(dvc);
                Arrays.sort(hst);
                line.append(String.format(Locale.ROOT, " %s on device %.1f [%.1f..%.1f], host sampler %.1f [%.1f..%.1f];",
                        gear, dvc[1], dvc[0], dvc[2], hst[1], hst[0], hst[2]));
            }
        }
        System.out.println(line);
    }

    /**
     * Time per token of the step's GEMVs alone, of its other kernels alone and of each of those kernels by name (each
     * part captured as one graph and replayed {@code tokens} times at the timed steps' positions; the parts' inputs
     * are whatever the buffers hold), with the options the {@code gearbx.cuda.*} properties give.
     */
    static void parts(CudaDevice device, DeviceWeights w, int tokens) {
        try (DeviceDecoder d = new DeviceDecoder(device, w, tokens + 16, StepOptions.fromSystemProperties())) {
            for (Gear gear : new Gear[] {Gear.LOW, Gear.MID, Gear.HIGH}) {
                List<Launch> all = d.launches(gear);
                List<Launch> gemv = all.stream().filter(l -> l.kernel().startsWith("gemv")).toList();
                List<Launch> rest = all.stream().filter(l -> !l.kernel().startsWith("gemv")).toList();
                StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "parts of a %s step (graph replays):", gear));
                List<List<Launch>> parts = new ArrayList<>(List.of(gemv, rest));
                Map<String, List<Launch>> byKernel = new java.util.TreeMap<>();
                for (Launch l : rest) {
                    byKernel.computeIfAbsent(l.kernel(), k -> new ArrayList<>()).add(l);
                }
                parts.addAll(byKernel.values());
                for (List<Launch> part : parts) {
                    // at the positions the timed steps above run (8 .. tokens + 8): a part that samples advances the
                    // position every replay, from 8 to tokens + 11 (within the capacity), one that does not stays at
                    // the middle (attention replayed alone at position 0 took half the time it takes in a step)
                    boolean advances = part.stream().anyMatch(l -> l.kernel().startsWith("sample"));
                    d.setPosition(advances ? 8 : 8 + tokens / 2);
                    jcuda.driver.CUgraphExec g = device.capture(() -> part.forEach(l -> device.launch(l, true)));
                    try {
                        for (int i = 0; i < 3; i++) {
                            device.launch(g);
                        }
                        float ms = device.time(() -> {
                            for (int i = 0; i < tokens; i++) {
                                device.launch(g);
                            }
                        });
                        long bytes = w.bytesReadPerToken(gear);
                        line.append(String.format(Locale.ROOT, " %s %d kernels %.3f ms/token%s;",
                                part == gemv ? "GEMVs" : part == rest ? "others" : part.get(0).kernel(), part.size(),
                                ms / tokens, part == gemv
                                        ? String.format(Locale.ROOT, " (%.0f GB/s)", bytes / (ms / tokens / 1e3) / 1e9) : ""));
                    } finally {
                        device.destroy(g);
                    }
                }
                System.out.println(line);
            }
        }
    }

    /** Entropy-routed decode: k = 8 steps queued at the router's gear, then their entropies read back. */
    static void routed(CudaDevice device, DeviceWeights w, int tokens) {
        int k = 8;
        RoutingOptions options = RoutingOptions.builder().deferredSteps(k).build();
        int vocab = w.shape().vocabularySize();
        Thresholds thresholds = dev.gearbx.engine.routing.ModelFamily.LLAMA3.thresholdsFor(vocab);
        try (DeviceDecoder d = new DeviceDecoder(device, w, tokens + 16, StepOptions.DEFAULT)) {
            for (int warm = 0; warm < 2; warm++) {
                Router router = new Router(options, vocab, thresholds, null, Gear.MID);
                d.setPosition(0);
                d.setToken(1);
                EnumMap<Gear, Integer> steps = new EnumMap<>(Gear.class);
                float[] entropies = new float[tokens];
                long t0 = System.nanoTime();
                for (int done = 0; done < tokens; done += k) {
                    Gear gear = router.gear();
                    int from = d.position();
                    for (int i = 0; i < k; i++) {
                        d.step(gear, true);
                    }
                    float[] h = d.results(from, from + k).entropies();
                    for (int i = 0; i < k; i++) {
                        router.afterStep(h[i]);
                        if (done + i < tokens) {
                            entropies[done + i] = h[i];
                        }
                    }
                    steps.merge(gear, k, Integer::sum);
                }
                double seconds = (System.nanoTime() - t0) / 1e9;
                if (warm == 1) {
                    Arrays.sort(entropies);
                    System.out.printf(Locale.ROOT, "routed (k=%d, LLAMA3 thresholds %s, wall clock with readbacks): "
                                    + "%.1f tok/s, gear steps %s, %d shifts, entropy median %.2f bits (log2 V = %.2f)%n", k,
                            thresholds, tokens / seconds, steps, router.shifts(), entropies[tokens / 2],
                            Math.log(vocab) / Math.log(2));
                }
            }
        }
    }
}
