package dev.gearbx.kernels.cuda;

import dev.gearbx.engine.GearbxException;

/** A CUDA driver call failed, or a model cannot run on the CUDA backend; the message names the call or the value. */
public final class CudaException extends GearbxException {
    private static final long serialVersionUID = 1L;

    public CudaException(String message) {
        super(message);
    }

    public CudaException(String message, Throwable cause) {
        super(message, cause);
    }
}
