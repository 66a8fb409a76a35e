package dev.gearbx.kernels.cuda;

/**
 * How the device decode step is launched.
 *
 * @param graphs replay each gear's step with logits as a captured CUDA graph
 * @param permute store GEMV inputs in their consumer's coalescing order (see gearbx.cu)
 * @param rowsPerWarp rows one warp of a GEMV computes together, sharing its loads of x: 1, 2 or 4, or 0 to choose
 *     per matrix (nested views: as many as still leave two blocks per multiprocessor of a 132-SM card; dense: 1)
 * @param affineLow LOW GEMVs decode each 4-bit code v as the float 1.5 + v / 16 (one byte permute, exact) and
 *     subtract 24 times the block's sum of x at the end, instead of decoding v itself (a byte permute and a
 *     subtraction per weight); both are exact up to float rounding of the sums
 * @param dependentLaunch launch each kernel with programmatic dependent launch where the device allows it
 *     ({@link CudaDevice#dependentLaunch()}: compute capability 9.0 and above), so that it is scheduled, and a GEMV
 *     starts loading its weights, while the previous kernel still runs; ignored elsewhere
 * @param fusedNorm fold the RMSNorms into the kernels around them (the embedding and the residual GEMVs write the
 *     weighted input and sum its squares, the next GEMV scales its dots) instead of launching one RMSNorm kernel
 *     per norm
 * @param slicedNested nested (LOW/MID) GEMVs use, where {@link GearMatrix#slicedKernel} picks one, the sliced kernels
 *     (a block of warps per group of rows, x held in registers) with integer dot products (dp4a) against x in 22-bit
 *     fixed point per 32-weight block, instead of one warp per row decoding every weight to fp32; only with
 *     {@code rowsPerWarp} 0 (auto) and the affine LOW decoding
 */
record StepOptions(boolean graphs, boolean permute, int rowsPerWarp, boolean affineLow, boolean dependentLaunch,
        boolean fusedNorm, boolean slicedNested) {
    /**
     * Graphs, permuted inputs, rows per warp chosen per matrix, affine LOW decoding, dependent launch, fused norms,
     * sliced nested GEMVs.
     */
    static final StepOptions DEFAULT = new StepOptions(true, true, 0, true, true, true, true);

    /** With affine LOW decoding and dependent launch. */
    StepOptions(boolean graphs, boolean permute, int rowsPerWarp) {
        this(graphs, permute, rowsPerWarp, true, true, true, true);
    }

    /** With dependent launch. */
    StepOptions(boolean graphs, boolean permute, int rowsPerWarp, boolean affineLow) {
        this(graphs, permute, rowsPerWarp, affineLow, true, true, true);
    }

    /** With fused norms and sliced nested GEMVs. */
    StepOptions(boolean graphs, boolean permute, int rowsPerWarp, boolean affineLow, boolean dependentLaunch) {
        this(graphs, permute, rowsPerWarp, affineLow, dependentLaunch, true, true);
    }

    /** These options with the RMSNorms folded or not. */
    StepOptions withFusedNorm(boolean fused) {
        return new StepOptions(graphs, permute, rowsPerWarp, affineLow, dependentLaunch, fused, slicedNested);
    }

    /** These options with the sliced nested GEMVs or not. */
    StepOptions withSlicedNested(boolean sliced) {
        return new StepOptions(graphs, permute, rowsPerWarp, affineLow, dependentLaunch, fusedNorm, sliced);
    }

    StepOptions {
        if (rowsPerWarp != 0 && rowsPerWarp != 1 && rowsPerWarp != 2 && rowsPerWarp != 4) {
            throw new IllegalArgumentException("rowsPerWarp must be 0 (auto), 1, 2 or 4, got " + rowsPerWarp);
        }
    }

    /**
     * Read from system properties {@code gearbx.cuda.graphs}, {@code .permute}, {@code .rowsPerWarp},
     * {@code .affineLow}, {@code .dependentLaunch}, {@code .fusedNorm}, {@code .slicedNested}.
     */
    static StepOptions fromSystemProperties() {
        return new StepOptions(Boolean.parseBoolean(System.getProperty(CudaBackendProvider.GRAPHS, "true")),
                Boolean.parseBoolean(System.getProperty(CudaBackendProvider.PERMUTE, "true")),
                Integer.parseInt(System.getProperty(CudaBackendProvider.ROWS_PER_WARP, "0")),
                Boolean.parseBoolean(System.getProperty(CudaBackendProvider.AFFINE_LOW, "true")),
                Boolean.parseBoolean(System.getProperty(CudaBackendProvider.DEPENDENT_LAUNCH, "true")),
                Boolean.parseBoolean(System.getProperty(CudaBackendProvider.FUSED_NORM, "true")),
                Boolean.parseBoolean(System.getProperty(CudaBackendProvider.SLICED_NESTED, "true")));
    }

    @Override
    public String toString() {
        return "graphs=" + graphs + " permuted=" + permute + " rows/warp=" + (rowsPerWarp == 0 ? "auto" : rowsPerWarp)
                + (affineLow ? "" : " exact LOW decode") + (dependentLaunch ? "" : " no dependent launch")
                + (fusedNorm ? "" : " RMSNorm kernels") + (slicedNested ? "" : " warp-per-row nested");
    }
}
