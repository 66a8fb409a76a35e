package dev.gearbx.kernels.cuda;

import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.generate.GenerationRequest;
import dev.gearbx.engine.gguf.GgufMetadata;
import dev.gearbx.engine.model.LlamaModel;
import dev.gearbx.reactive.spi.LoadedModel;
import dev.gearbx.reactive.spi.Sequence;

/**
 * A model whose weights were uploaded to the device once per format the gears need; the host keeps the
 * tokenizer and metadata (and the memory-mapped file). Each {@link #start} allocates a sequence's KV cache on
 * the device. Sequences may run from any thread, one step at a time each.
 */
final class CudaModel implements LoadedModel {
    private static final System.Logger LOG = System.getLogger(CudaModel.class.getName());

    private final CudaDevice device;
    private final LlamaModel host;
    private final DeviceWeights weights;
    private final StepOptions options;

    CudaModel(CudaDevice device, LlamaModel host, StepOptions options) {
        this.device = device;
        this.host = host;
        this.options = options;
        synchronized (device) {
            device.bind();
            this.weights = DeviceWeights.upload(device, host);
        }
        LOG.log(System.Logger.Level.INFO, () -> String.format(
                "%s on %s: %d MiB on the device; resident per gear LOW %d / MID %d / HIGH %d MiB; "
                        + "read per token LOW %d / MID %d / HIGH %d MiB",
                weights.description(), device.name(), weights.residentBytes() >> 20,
                weights.residentBytes(Gear.LOW) >> 20, weights.residentBytes(Gear.MID) >> 20,
                weights.residentBytes(Gear.HIGH) >> 20, weights.bytesReadPerToken(Gear.LOW) >> 20,
                weights.bytesReadPerToken(Gear.MID) >> 20, weights.bytesReadPerToken(Gear.HIGH) >> 20));
    }

    CudaDevice device() {
        return device;
    }

    LlamaModel host() {
        return host;
    }

    DeviceWeights weights() {
        return weights;
    }

    DeviceDecoder newDecoder(int capacity, DeviceSampling sampling) {
        synchronized (device) {
            device.bind();
            return new DeviceDecoder(device, weights, capacity, options, sampling);
        }
    }

    @Override
    public int contextLength() {
        return host.config().contextLength();
    }

    @Override
    public int vocabularySize() {
        return host.config().vocabularySize();
    }

    @Override
    public GgufMetadata metadata() {
        return host.file().metadata();
    }

    @Override
    public String forwardDescription() {
        return "CUDA decode step on " + device.name() + " (sm_" + device.computeCapability().replace(".", "")
                + ", JCuda driver API" + (device.dependentLaunch() ? ", dependent launch available" : "") + ", "
                + options + ")";
    }

    @Override
    public Sequence start(GenerationRequest request) {
        return new CudaSequence(this, request);
    }

    @Override
    public void close() {
        synchronized (device) {
            device.bind();
            weights.close();
        }
        host.close();
    }
}
