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
 * @param persistentLow whether a LOW step runs all its layers in one persistent launch ({@link PersistentLow}); only
 *     with the fused norms, {@link NestedKernels#BY_SHAPE}, auto rows per warp and the affine LOW decoding, and
 *     where the model's shape and the card allow it (see {@code DeviceDecoder})
 */
record StepOptions(boolean graphs, boolean permute, int rowsPerWarp, boolean affineLow, boolean dependentLaunch,
        boolean fusedNorm, NestedKernels nested, PersistentLow persistentLow) {

    /**
     * The persistent LOW kernel (gearbx.cu, "persistent LOW layers"): every layer's GEMVs and attention in one
     * cooperative launch, stages separated by grid barriers, each thread's weights streamed through a ring of
     * {@code depth} chunks of {@code rows} rows in shared memory.
     */
    enum PersistentLow {
        /** One launch per GEMV and attention, as for the other gears. */
        OFF(null, 0, 0),
        /** 4 rows per chunk, 4 chunks in flight (a 160 KiB ring per block). */
        R4D4("layers_low_r4d4", 4, 4),
        /** 4 rows per chunk, 2 chunks in flight. */
        R4D2("layers_low_r4d2", 4, 2),
        /** 8 rows per chunk, 2 chunks in flight. */
        R8D2("layers_low_r8d2", 8, 2);

        /** Threads per block of the persistent kernels (PL_THREADS in gearbx.cu). */
        static final int THREADS = 512;

        final @org.jspecify.annotations.Nullable String kernel;
        final int rows;
        final int depth;

        PersistentLow(@org.jspecify.annotations.Nullable String kernel, int rows, int depth) {
            this.kernel = kernel;
            this.rows = rows;
            this.depth = depth;
        }

        /**
         * Dynamic shared memory per block: the ring of depth x rows x (16 weight + 4 scale) bytes per thread, then the
         * layer table (192 bytes a layer).
         */
        int sharedBytes(int layers) {
            return depth * rows * THREADS * 20 + 192 * layers;
        }
    }

    /**
     * The nested GEMV kernels: one warp per row decoding every weight to fp32, or the sliced kernels (a block of warps
     * per group of rows, x held in registers) with integer dot products (dp4a) against x in 22-bit fixed point per
     * 32-weight block.
     */
    enum NestedKernels {
        /** One warp per row (or 2 or 4 rows) everywhere. */
        WARP_PER_ROW,
        /**
         * The sliced kernels {@link GearMatrix#slicedKernel} picks for each matrix's shape from the table that suits the
         * card ({@link #forCard}), else warp per row.
         */
        BY_SHAPE,
        /** By shape from the table measured best on an H100: weights loaded into registers, rings for long rows. */
        BY_SHAPE_REGISTERS,
        /**
         * By shape from the table measured best on an H200, which has ~1.5x the DRAM bytes per SM cycle of an H100:
         * kernels whose first weights are copied into shared memory before the dependent-launch wait for the 1B-like
         * matrices and the MID gate/up and output, else as {@link #BY_SHAPE_REGISTERS}.
         */
        BY_SHAPE_RING,
        /** Every nested matrix sliced, LOW 4 rows x 1 group (MID always 4 x 1): for tests on small models. */
        SLICED_4X1,
        /** Every nested matrix sliced, LOW 2 rows x 4 groups: for tests. */
        SLICED_2X4,
        /** Every nested matrix sliced, LOW 4 rows x 2 groups: for tests. */
        SLICED_4X2,
        /**
         * Every nested matrix sliced with its weights copied into shared memory, LOW 2 rows x 8 groups, MID 4 x 4:
         * for tests.
         */
        SLICED_ASYNC_2X8,
        /** Every nested matrix sliced with its weights copied into shared memory, 4 rows x 2 groups: for tests. */
        SLICED_ASYNC_4X2;

        /**
         * DRAM bytes per SM cycle from which {@link #BY_SHAPE} takes the ring table: between an H100 SXM's ~12.8 (from
         * its data-sheet clocks), where the register table measured faster, and the H200's 18.4 (as its driver
         * reports it), where the ring table did. Two cards decide it: one in between is a guess.
         */
        static final double RING_BYTES_PER_CYCLE = 16;

        /** Whether this picks kernels per matrix shape (a table), rather than forcing one kernel or none. */
        boolean byShape() {
            return this == BY_SHAPE || this == BY_SHAPE_REGISTERS || this == BY_SHAPE_RING;
        }

        /**
         * The table {@link #BY_SHAPE} means on a card with {@code dramBytesPerCycle} (0: unknown, the register
         * table); any other choice stays as it is.
         */
        NestedKernels forCard(double dramBytesPerCycle) {
            if (this != BY_SHAPE) {
                return this;
            }
            return dramBytesPerCycle >= RING_BYTES_PER_CYCLE ? BY_SHAPE_RING : BY_SHAPE_REGISTERS;
        }
    }

    /**
     * The persistent LOW kernel unless {@code gearbx.cuda.persistentLow} says otherwise: none. Measured slower than the
     * kernel-by-kernel LOW step on both shapes and both cards (BENCHMARKS.md, "One persistent launch for a LOW step's
     * layers"): its 16 warps per multiprocessor decode too slowly to keep DRAM busy, and its grid barriers cost
     * ~1.9 us each.
     */
    static final PersistentLow DEFAULT_PERSISTENT_LOW = PersistentLow.OFF;

    /**
     * Graphs, permuted inputs, rows per warp chosen per matrix, affine LOW decoding, dependent launch, fused norms,
     * sliced nested GEMVs.
     */
    static final StepOptions DEFAULT = new StepOptions(true, true, 0, true, true, true, NestedKernels.BY_SHAPE);

    /** These with the default persistent LOW kernel (none). */
    StepOptions(boolean graphs, boolean permute, int rowsPerWarp, boolean affineLow, boolean dependentLaunch,
            boolean fusedNorm, NestedKernels nested) {
        this(graphs, permute, rowsPerWarp, affineLow, dependentLaunch, fusedNorm, nested, DEFAULT_PERSISTENT_LOW);
    }

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
        return new StepOptions(graphs, permute, rowsPerWarp, affineLow, dependentLaunch, fused, nested, persistentLow);
    }

    /** These options with other nested GEMV kernels. */
    StepOptions withNested(NestedKernels kernels) {
        return new StepOptions(graphs, permute, rowsPerWarp, affineLow, dependentLaunch, fusedNorm, kernels,
                persistentLow);
    }

    /** These options with another persistent LOW kernel (or none). */
    StepOptions withPersistentLow(PersistentLow kernel) {
        return new StepOptions(graphs, permute, rowsPerWarp, affineLow, dependentLaunch, fusedNorm, nested, kernel);
    }

    /** Whether these options ask for the persistent LOW program (the model and card may still not allow it). */
    boolean wantsPersistentLow() {
        return persistentLow != PersistentLow.OFF && fusedNorm && nested.byShape() && rowsPerWarp == 0
                && affineLow;
    }

    StepOptions {
        java.util.Objects.requireNonNull(nested, "nested");
        java.util.Objects.requireNonNull(persistentLow, "persistentLow");
        if (rowsPerWarp != 0 && rowsPerWarp != 1 && rowsPerWarp != 2 && rowsPerWarp != 4) {
            throw new IllegalArgumentException("rowsPerWarp must be 0 (auto), 1, 2 or 4, got " + rowsPerWarp);
        }
    }

    /**
     * Read from system properties {@code gearbx.cuda.graphs}, {@code .permute}, {@code .rowsPerWarp},
     * {@code .affineLow}, {@code .dependentLaunch}, {@code .fusedNorm}, {@code .slicedNested}, {@code .persistentLow}
     * ({@code off}, {@code r4d4}, {@code r4d2}, {@code r8d2}).
     */
    static StepOptions fromSystemProperties() {
        return new StepOptions(Boolean.parseBoolean(System.getProperty(CudaBackendProvider.GRAPHS, "true")),
                Boolean.parseBoolean(System.getProperty(CudaBackendProvider.PERMUTE, "true")),
                Integer.parseInt(System.getProperty(CudaBackendProvider.ROWS_PER_WARP, "0")),
                Boolean.parseBoolean(System.getProperty(CudaBackendProvider.AFFINE_LOW, "true")),
                Boolean.parseBoolean(System.getProperty(CudaBackendProvider.DEPENDENT_LAUNCH, "true")),
                Boolean.parseBoolean(System.getProperty(CudaBackendProvider.FUSED_NORM, "true")),
                nestedKernels(System.getProperty(CudaBackendProvider.SLICED_NESTED)),
                persistentLow(System.getProperty(CudaBackendProvider.PERSISTENT_LOW)));
    }

    /**
     * The nested kernels a {@code gearbx.cuda.slicedNested} value names: {@code true} or {@code auto} (the default:
     * by shape, the table suiting the card), {@code registers} or {@code ring} (one table on any card), {@code false}
     * (warp per row).
     */
    static NestedKernels nestedKernels(@org.jspecify.annotations.Nullable String value) {
        String v = value == null ? "true" : value.strip().toLowerCase(java.util.Locale.ROOT);
        return switch (v) {
            case "", "true", "auto" -> NestedKernels.BY_SHAPE;
            case "registers" -> NestedKernels.BY_SHAPE_REGISTERS;
            case "ring" -> NestedKernels.BY_SHAPE_RING;
            case "false" -> NestedKernels.WARP_PER_ROW;
            default -> throw new IllegalArgumentException("-D" + CudaBackendProvider.SLICED_NESTED
                    + " must be true (or auto), registers, ring or false, got '" + value + "'");
        };
    }

    /** The persistent LOW kernel a property value names (null: the default). */
    static PersistentLow persistentLow(@org.jspecify.annotations.Nullable String value) {
        if (value == null || value.isBlank()) {
            return DEFAULT_PERSISTENT_LOW;
        }
        for (PersistentLow p : PersistentLow.values()) {
            if (p.name().equalsIgnoreCase(value.strip())) {
                return p;
            }
        }
        throw new IllegalArgumentException("-D" + CudaBackendProvider.PERSISTENT_LOW
                + " must be off, r4d4, r4d2 or r8d2, got '" + value + "'");
    }

    @Override
    public String toString() {
        return "graphs=" + graphs + " permuted=" + permute + " rows/warp=" + (rowsPerWarp == 0 ? "auto" : rowsPerWarp)
                + (affineLow ? "" : " exact LOW decode") + (dependentLaunch ? "" : " no dependent launch")
                + (fusedNorm ? "" : " RMSNorm kernels") + switch (nested) {
                    case BY_SHAPE -> "";
                    case WARP_PER_ROW -> " warp-per-row nested";
                    default -> " nested " + nested;
                } + (persistentLow == DEFAULT_PERSISTENT_LOW ? "" : " persistent LOW " + persistentLow);
    }
}
