package dev.gearbx.kernels.cuda;

import org.jspecify.annotations.Nullable;

/**
 * A weight matrix as one gear's GEMV reads it on the device.
 *
 * @param buffer the device memory (shared between LOW and MID for the nested planes)
 * @param view how the GEMV reads it
 * @param rows rows (for fused matrices: all parts together)
 * @param cols columns
 * @param groupSize weights per scale (nested views), else 0
 * @param highOffset byte offset of the high nibble plane (nested views), else 0
 * @param residualOffset byte offset of the residual plane (MID), else 0
 */
record GearMatrix(DeviceBuffer buffer, View view, int rows, int cols, int groupSize, long highOffset,
        long residualOffset) {

    /** How a GEMV reads a matrix. */
    enum View {
        F32("gemv_f32", 4),
        F16("gemv_f16", 2),
        BF16("gemv_bf16", 2),
        LOW("gemv_low", 0),
        MID("gemv_mid", 0);

        /**
         * Kernel name prefix; the launch appends {@code _r1}, {@code _r2} or {@code _r4} (rows per warp). LOW has two:
         * {@code gemv_low} (codes decoded as 1.5 + v / 16, see {@link StepOptions#affineLow}) and {@code gemv_lowx}.
         */

        final String kernel;
        final int elementBytes;

        View(String kernel, int elementBytes) {
            this.kernel = kernel;
            this.elementBytes = elementBytes;
        }

        boolean nested() {
            return this == LOW || this == MID;
        }

        /** Code of the dense type for the {@code embed} kernel. */
        int denseType() {
            return switch (this) {
                case F32 -> 0;
                case F16 -> 1;
                case BF16 -> 2;
                default -> throw new IllegalStateException(this + " is not a dense type");
            };
        }
    }

    /** Weight bytes one GEMV over all rows reads. */
    long bytesRead() {
        long n = (long) rows * cols;
        return switch (view) {
            case F32, F16, BF16 -> n * view.elementBytes;
            case LOW -> n / groupSize * 2 + n / 2;
            case MID -> n / groupSize * 2 + n;
        };
    }

    /**
     * How this matrix's GEMV wants its input stored: 4 is the natural order; 32 is the permuted order that makes the
     * lanes' x loads coalesce for the nested views (see gearbx.cu). Only with {@code permute}. Dense views read the
     * natural order: on an H200 the permuted one (chunk 8, which the kernels still accept) made F16 slower (8B
     * shape, one row per warp: 188 against 203 tokens/s).
     */
    int xChunk(boolean permute) {
        return permute && view.nested() ? 32 : 4;
    }

    /**
     * The launch computing {@code out = W x} (mode 0), {@code out += W x} (1) or the SwiGLU of the two halves
     * (2, where this matrix holds [gate; up] and {@code out} gets rows / 2 values, stored for a consumer that wants
     * {@code outChunk}); {@code x} is stored as {@link #xChunk} says.
     */
    Launch gemv(CudaDevice device, DeviceBuffer x, DeviceBuffer out, int mode, int outChunk, StepOptions options) {
        return gemv(device, x, out, mode, outChunk, options, NormLink.NONE);
    }

    /**
     * The RMSNorms a GEMV takes over in the fused-norm programs (see {@code GemvNorm} in gearbx.cu): the scale of its
     * input's norm ({@code inNorm}: the device address of the sums of x^2, or 0), and for a residual GEMV the next
     * norm's weights, where its weighted input goes (stored for a consumer that wants {@code uChunk}) and the
     * address its squares are added to (0 when it feeds no norm); and a bias added to each output row (the address
     * of {@code rows} floats, or 0; mode 0 only).
     */
    record NormLink(long inNorm, float eps, long normWeights, long u, long normOut, int uChunk, long bias) {
        static final NormLink NONE = new NormLink(0L, 0f, 0L, 0L, 0L, 4, 0L);

        NormLink(long inNorm, float eps, long normWeights, long u, long normOut, int uChunk) {
            this(inNorm, eps, normWeights, u, normOut, uChunk, 0L);
        }

        NormLink withBias(long address) {
            return new NormLink(inNorm, eps, normWeights, u, normOut, uChunk, address);
        }
    }

    /** {@link #gemv(CudaDevice, DeviceBuffer, DeviceBuffer, int, int, StepOptions)} with the norms of {@code norm}. */
    Launch gemv(CudaDevice device, DeviceBuffer x, DeviceBuffer out, int mode, int outChunk, StepOptions options,
            NormLink norm) {
        int outRows = mode == 2 ? rows / 2 : rows;
        Sliced sliced = options.rowsPerWarp() == 0 && options.affineLow()
                ? slicedKernel(view, rows, cols, options.nested().forCard(device.dramBytesPerCycle())) : null;
        if (sliced != null) {
            int perBlock = sliced.rowsPerBlock() / (mode == 2 ? 2 : 1);
            int grid = (outRows + perBlock - 1) / perBlock;
            int block = 32 * ((cols / 32 + 31) / 32);
            return Launch.withSharedMemory(device, sliced.kernel(), grid, block, sliced.ringBytesPerThread() * block,
                    buffer, highOffset, residualOffset, x, out, outRows,
                    cols, groupSize, mode, xChunk(options.permute()) == 4 ? 0 : 1, outChunk, norm.inNorm(), norm.eps(),
                    norm.normWeights(), norm.u(), norm.normOut(), norm.uChunk(), norm.bias());
        }
        int r = view.nested() || options.rowsPerWarp() != 0
                ? rowsPerWarp(outRows * (mode == 2 ? 2 : 1), mode, options.rowsPerWarp())
                : mode == 2 ? 2 : 1;
        int perWarp = mode == 2 ? r / 2 : r;
        int grid = (outRows + 4 * perWarp - 1) / (4 * perWarp);
        int xperm = xChunk(options.permute()) == 4 ? 0 : 1;
        String kernel = (view == View.LOW && !options.affineLow() ? "gemv_lowx" : view.kernel) + "_r" + r;
        return view.nested()
                ? Launch.of(device, kernel, grid, 128, buffer, highOffset, residualOffset, x, out, outRows, cols,
                        groupSize, mode, xperm, outChunk, norm.inNorm(), norm.eps(), norm.normWeights(), norm.u(),
                        norm.normOut(), norm.uChunk(), norm.bias())
                : Launch.of(device, kernel, grid, 128, buffer, x, out, outRows, cols, mode, xperm, outChunk,
                        norm.inNorm(), norm.eps(), norm.normWeights(), norm.u(), norm.normOut(), norm.uChunk(),
                        norm.bias());
    }

    /**
     * A sliced nested GEMV kernel (see gearbx.cu): a block of ceil(cols / 1024) warps computes {@code groups} groups
     * of {@code rowsPerGroup} dot rows; {@code ringBytesPerThread} of dynamic shared memory per thread for the kernels
     * whose weights land in shared memory (gemv_async_impl), else 0.
     */
    record Sliced(String kernel, int rowsPerGroup, int groups, int ringBytesPerThread) {
        /** A sliced kernel that loads its weights into registers. */
        Sliced(String kernel, int rowsPerGroup, int groups) {
            this(kernel, rowsPerGroup, groups, 0);
        }

        int rowsPerBlock() {
            return rowsPerGroup * groups;
        }
    }

    /** MID, 4 rows x 1 group, weights in registers. */
    static final Sliced MID_4X1 = new Sliced("gemv_midi_s4x1", 4, 1);
    /** LOW, 2 rows x 8 groups, 4 groups of copies in flight: 4 x 2 x (16 weight + 4 scale) bytes per thread. */
    static final Sliced LOW_ASYNC_2X8 = new Sliced("gemv_lowa_2x8d4", 2, 8, 4 * 2 * 20);
    /** LOW, 4 rows x 2 groups, 2 groups in flight: 2 x 4 x 20 bytes per thread. */
    static final Sliced LOW_ASYNC_4X2 = new Sliced("gemv_lowa_4x2d2", 4, 2, 2 * 4 * 20);
    /** MID, 4 rows x 2 groups, 2 groups in flight: 2 x 4 x (32 weight + 4 scale) bytes per thread. */
    static final Sliced MID_ASYNC_4X2 = new Sliced("gemv_mida_4x2d2", 4, 2, 2 * 4 * 36);
    /** MID, 4 rows x 4 groups, 2 groups in flight: 2 x 4 x 36 bytes per thread. */
    static final Sliced MID_ASYNC_4X4 = new Sliced("gemv_mida_4x4d2", 4, 4, 2 * 4 * 36);
    /** Largest ring a block may take (the cards' 227 KiB of shared memory per block, with room for the rest). */
    static final int MAX_RING_BYTES = 200 * 1024;

    /** The sliced kernel of the register table ({@link StepOptions.NestedKernels#BY_SHAPE_REGISTERS}), or null. */
    static @Nullable Sliced slicedKernel(View view, int rows, int cols) {
        return slicedKernel(view, rows, cols, StepOptions.NestedKernels.BY_SHAPE_REGISTERS);
    }

    /**
     * The sliced kernel these options ask for (a table by shape, or one forced on every nested matrix), or null where
     * the warp-per-row kernels are faster or the block would exceed 1024 threads. {@code BY_SHAPE} without a card
     * means the register table.
     *
     * <p>The register table, measured on an H100 (BENCHMARKS.md, bench/gemv_micro.cu, Llama-3-8B and -3.2-1B
     * shapes, as whole chains of a step's GEMVs): LOW takes 4 rows per group, 2 groups for output projections
     * (65,536+ rows) and other matrices of 2^26+ weights (the 8B gate/up), for rows longer than 8,192 the kernel
     * whose weights land in shared memory with 2 rows x 8 groups (the 8B down projection; 2 x 4 in registers below
     * 4,096 rows, where 16 rows per block would leave too few blocks), the warp-per-row kernels for small matrices of
     * short rows (the 1B q/k/v and o); MID, whose fp32 decode is already close to the copy bandwidth, takes 4 rows x
     * 1 group only for more than 4,096 rows or rows 4 times longer than the matrix is high (gate/up, output, 8B
     * q/k/v, 1B down) and keeps the warp-per-row kernels for the square and 4,096-row matrices (o, 8B down).
     *
     * <p>The ring table, measured on an H200 (same chains, 2026-11-28): kernels that copy their first two groups of
     * 4 rows into shared memory before the dependent-launch wait (so that they overlap the previous kernel's tail)
     * for LOW matrices under 4,096 rows or of rows up to 2,048 (every 1B matrix: its LOW GEMVs 0.397 -> 0.377 ms a
     * step), for MID matrices under 4,096 rows (4 x 2) and of 16,384+ rows (4 x 4: gate/up, output; 8B MID GEMVs
     * 2.390 -> 2.281 ms, 1B 0.519 -> 0.483); the register table for the rest (the 8B LOW matrices, where no
     * ring mix beat it).
     */
    static @Nullable Sliced slicedKernel(View view, int rows, int cols, StepOptions.NestedKernels kernels) {
        if (!view.nested() || cols % 32 != 0 || cols > 32 * 1024 || kernels == StepOptions.NestedKernels.WARP_PER_ROW) {
            return null;
        }
        boolean mid = view == View.MID;
        return switch (kernels) {
            case SLICED_4X1 -> mid ? MID_4X1 : new Sliced("gemv_lowi_s4x1", 4, 1);
            case SLICED_2X4 -> mid ? MID_4X1 : new Sliced("gemv_lowi_s2x4", 2, 4);
            case SLICED_4X2 -> mid ? MID_4X1 : new Sliced("gemv_lowi_s4x2", 4, 2);
            case SLICED_ASYNC_2X8 -> fitsRing(mid ? MID_ASYNC_4X4 : LOW_ASYNC_2X8, cols);
            case SLICED_ASYNC_4X2 -> fitsRing(mid ? MID_ASYNC_4X2 : LOW_ASYNC_4X2, cols);
            case BY_SHAPE_RING -> {
                Sliced ring = ringTable(mid, rows, cols);
                yield ring != null ? ring : registerTable(mid, rows, cols);
            }
            default -> registerTable(mid, rows, cols);
        };
    }

    private static @Nullable Sliced ringTable(boolean mid, int rows, int cols) {
        if (mid) {
            return rows >= 16384 ? fitsRing(MID_ASYNC_4X4, cols) : rows < 4096 ? fitsRing(MID_ASYNC_4X2, cols) : null;
        }
        return rows < 4096 || cols <= 2048 ? fitsRing(LOW_ASYNC_4X2, cols) : null;
    }

    /** The kernel, or null where its ring would not fit a block of ceil(cols / 1024) warps. */
    private static @Nullable Sliced fitsRing(Sliced kernel, int cols) {
        return kernel.ringBytesPerThread() * 32L * ((cols / 32 + 31) / 32) <= MAX_RING_BYTES ? kernel : null;
    }

    private static @Nullable Sliced registerTable(boolean mid, int rows, int cols) {
        long weights = (long) rows * cols;
        if (mid) {
            return rows > 4096 || cols >= 4 * rows ? MID_4X1 : null;
        }
        if (cols <= 2048 && weights < 1L << 23) {
            return null;
        }
        if (cols > 8192) {
            return rows >= 4096 ? LOW_ASYNC_2X8 : new Sliced("gemv_lowi_s2x4", 2, 4);  // its ring fits any row
        }
        if (rows >= 65536 || weights >= 1L << 26) {
            return new Sliced("gemv_lowi_s4x2", 4, 2);
        }
        return new Sliced("gemv_lowi_s4x1", 4, 1);
    }

    /**
     * Dots per warp: the fixed choice, or the most (4, 2, 1) that leaves at least 264 blocks of 4 warps (nested views;
     * dense ones take one row per warp unless fixed: on an H200, F16 at the 8B shape ran 203 tokens/s with one row
     * per warp against 192 with this choice).
     */
    static int rowsPerWarp(int dots, int mode, int fixed) {
        int min = mode == 2 ? 2 : 1;
        if (fixed != 0) {
            return Math.max(min, fixed);
        }
        for (int r = 4; r > min; r /= 2) {
            if (dots / r / 4 >= 264) {
                return r;
            }
        }
        return min;
    }
}
