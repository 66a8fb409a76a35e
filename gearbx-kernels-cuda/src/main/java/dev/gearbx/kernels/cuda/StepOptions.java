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
 * @param nested which kernels the nested (LOW/MID) GEMVs use (see {@link NestedKernels}); the sliced ones only with
 *     {@code rowsPerWarp} 0 (auto) and the affine LOW decoding
 */
record StepOptions(boolean graphs, boolean permute, int rowsPerWarp, boolean affineLow, boolean dependentLaunch,
        boolean fusedNorm, NestedKernels nested) {

    /**
     * The nested GEMV kernels: one warp per row decoding every weight to fp32, or the sliced kernels (a block of warps
     * per group of rows, x held in registers) with integer dot products (dp4a) against x in 22-bit fixed point per
     * 32-weight block.
     */
    enum NestedKernels {
        /** One warp per row (or 2 or 4 rows) everywhere. */
        WARP_PER_ROW,
        /** The sliced kernel {@link GearMatrix#slicedKernel} picks for each matrix's shape, else warp per row. */
        BY_SHAPE,
        /** Every nested matrix sliced, LOW 4 rows x 1 group (MID always 4 x 1): for tests on small models. */
        SLICED_4X1,
        /** Every nested matrix sliced, LOW 2 rows x 4 groups: for tests. */
        SLICED_2X4,
        /** Every nested matrix sliced, LOW 4 rows x 2 groups: for tests. */
        SLICED_4X2,
        /** Every nested matrix sliced, LOW 2 rows x 8 groups with its weights copied into shared memory: for tests. */
        SLICED_ASYNC_2X8
    }
    /**
     * Graphs, permuted inputs, rows per warp chosen per matrix, affine LOW decoding, dependent launch, fused norms,
     * sliced nested GEMVs.
     */
    static final StepOptions DEFAULT = new StepOptions(true, true, 0, true, true, true, NestedKernels.BY_SHAPE);

    /** With affine LOW decoding and dependent launch. */
    StepOptions(boolean graphs, boolean permute, int rowsPerWarp) {
        this(graphs, permute, rowsPerWarp, true, true, true, NestedKernels.BY_SHAPE);
    }

    /** With dependent launch. */
    StepOptions(boolean graphs, boolean permute, int rowsPerWarp, boolean affineLow) {
        this(graphs, permute, rowsPerWarp, affineLow, true, true, NestedKernels.BY_SHAPE);
    }

    /** With fused norms and sliced nested GEMVs. */
    StepOptions(boolean graphs, boolean permute, int rowsPerWarp, boolean affineLow, boolean dependentLaunch) {
        this(graphs, permute, rowsPerWarp, affineLow, dependentLaunch, true, NestedKernels.BY_SHAPE);
    }

    /** These options with the RMSNorms folded or not. */
    StepOptions withFusedNorm(boolean fused) {
        return new StepOptions(graphs, permute, rowsPerWarp, affineLow, dependentLaunch, fused, nested);
    }

    /** These options with other nested GEMV kernels. */
    StepOptions withNested(NestedKernels kernels) {
        return new StepOptions(graphs, permute, rowsPerWarp, affineLow, dependentLaunch, fusedNorm, kernels);
    }

    StepOptions {
        java.util.Objects.requireNonNull(nested, "nested");
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
                Boolean.parseBoolean(System.getProperty(CudaBackendProvider.SLICED_NESTED, "true"))
                        ? NestedKernels.BY_SHAPE : NestedKernels.WARP_PER_ROW);
    }

    @Override
    public String toString() {
        return "graphs=" + graphs + " permuted=" + permute + " rows/warp=" + (rowsPerWarp == 0 ? "auto" : rowsPerWarp)
                + (affineLow ? "" : " exact LOW decode") + (dependentLaunch ? "" : " no dependent launch")
                + (fusedNorm ? "" : " RMSNorm kernels") + switch (nested) {
                    case BY_SHAPE -> "";
                    case WARP_PER_ROW -> " warp-per-row nested";
                    default -> " nested " + nested;
                };
    }
}
