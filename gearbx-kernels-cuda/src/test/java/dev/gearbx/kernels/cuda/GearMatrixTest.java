package dev.gearbx.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.gearbx.kernels.cuda.GearMatrix.Sliced;
import dev.gearbx.kernels.cuda.GearMatrix.View;
import dev.gearbx.kernels.cuda.StepOptions.NestedKernels;
import org.junit.jupiter.api.Test;

/** The per-matrix choice of nested GEMV kernels (no GPU needed: it is host logic). */
class GearMatrixTest {

    @Test
    void lowTakesTheSlicedIntegerKernelsMeasuredFastestPerShape() {
        // Llama-3-8B: q/k/v, o, gate+up, down, output
        assertEquals(new Sliced("gemv_lowi_s4x1", 4, 1), GearMatrix.slicedKernel(View.LOW, 6144, 4096));
        assertEquals(new Sliced("gemv_lowi_s4x1", 4, 1), GearMatrix.slicedKernel(View.LOW, 4096, 4096));
        assertEquals(new Sliced("gemv_lowi_s4x2", 4, 2), GearMatrix.slicedKernel(View.LOW, 28672, 4096));
        assertEquals(GearMatrix.LOW_ASYNC_2X8, GearMatrix.slicedKernel(View.LOW, 4096, 14336));
        assertEquals(new Sliced("gemv_lowi_s4x2", 4, 2), GearMatrix.slicedKernel(View.LOW, 128256, 4096));
        // Llama-3.2-1B: the small q/k/v and o stay on the warp-per-row kernels
        assertNull(GearMatrix.slicedKernel(View.LOW, 3072, 2048));
        assertNull(GearMatrix.slicedKernel(View.LOW, 2048, 2048));
        assertEquals(new Sliced("gemv_lowi_s4x1", 4, 1), GearMatrix.slicedKernel(View.LOW, 2048, 8192));
        assertEquals(new Sliced("gemv_lowi_s4x1", 4, 1), GearMatrix.slicedKernel(View.LOW, 16384, 2048));  // gate/up
        // long rows but few of them: 2 x 4 in registers (16 rows per block would leave too few blocks)
        assertEquals(new Sliced("gemv_lowi_s2x4", 2, 4), GearMatrix.slicedKernel(View.LOW, 2048, 16384));
        assertEquals(160, GearMatrix.LOW_ASYNC_2X8.ringBytesPerThread());
        assertEquals(16, GearMatrix.LOW_ASYNC_2X8.rowsPerBlock());
    }

    @Test
    void midTakesTheSlicedKernelForTallOrLongRowMatricesOnly() {
        Sliced sliced = new Sliced("gemv_midi_s4x1", 4, 1);
        assertEquals(sliced, GearMatrix.slicedKernel(View.MID, 6144, 4096));    // 8B q/k/v
        assertNull(GearMatrix.slicedKernel(View.MID, 4096, 4096));              // 8B o
        assertEquals(sliced, GearMatrix.slicedKernel(View.MID, 28672, 4096));   // 8B gate/up
        assertNull(GearMatrix.slicedKernel(View.MID, 4096, 14336));             // 8B down
        assertEquals(sliced, GearMatrix.slicedKernel(View.MID, 128256, 4096));  // output
        assertNull(GearMatrix.slicedKernel(View.MID, 3072, 2048));              // 1B q/k/v
        assertEquals(sliced, GearMatrix.slicedKernel(View.MID, 2048, 8192));    // 1B down
        assertEquals(4, sliced.rowsPerBlock());
    }

    @Test
    void forcedSlicedKernelsApplyToEveryNestedMatrixEvenSmallOnes() {
        assertEquals(new Sliced("gemv_lowi_s4x1", 4, 1), GearMatrix.slicedKernel(View.LOW, 256, 256, NestedKernels.SLICED_4X1));
        assertEquals(new Sliced("gemv_lowi_s2x4", 2, 4), GearMatrix.slicedKernel(View.LOW, 256, 256, NestedKernels.SLICED_2X4));
        assertEquals(new Sliced("gemv_lowi_s4x2", 4, 2), GearMatrix.slicedKernel(View.LOW, 1024, 64, NestedKernels.SLICED_4X2));
        assertEquals(GearMatrix.LOW_ASYNC_2X8, GearMatrix.slicedKernel(View.LOW, 256, 64, NestedKernels.SLICED_ASYNC_2X8));
        assertEquals(GearMatrix.MID_ASYNC_4X4, GearMatrix.slicedKernel(View.MID, 256, 64, NestedKernels.SLICED_ASYNC_2X8));
        assertEquals(GearMatrix.LOW_ASYNC_4X2, GearMatrix.slicedKernel(View.LOW, 256, 64, NestedKernels.SLICED_ASYNC_4X2));
        assertEquals(GearMatrix.MID_ASYNC_4X2, GearMatrix.slicedKernel(View.MID, 256, 64, NestedKernels.SLICED_ASYNC_4X2));
        assertEquals(new Sliced("gemv_midi_s4x1", 4, 1), GearMatrix.slicedKernel(View.MID, 256, 512, NestedKernels.SLICED_2X4));
        assertNull(GearMatrix.slicedKernel(View.LOW, 256, 256, NestedKernels.BY_SHAPE));
        assertNull(GearMatrix.slicedKernel(View.LOW, 6144, 4096, NestedKernels.WARP_PER_ROW));
        assertNull(GearMatrix.slicedKernel(View.F16, 256, 256, NestedKernels.SLICED_4X1));
    }

    @Test
    void theRingTableTakesSharedMemoryKernelsFor1bMatricesAndMidGateUpAndOutput() {
        NestedKernels ring = NestedKernels.BY_SHAPE_RING;
        // Llama-3.2-1B LOW: every matrix 4 x 2 with a ring
        for (int[] m : new int[][] {{3072, 2048}, {2048, 2048}, {16384, 2048}, {2048, 8192}, {128256, 2048}}) {
            assertEquals(GearMatrix.LOW_ASYNC_4X2, GearMatrix.slicedKernel(View.LOW, m[0], m[1], ring), m[0] + " x " + m[1]);
        }
        // Llama-3-8B LOW: the register table
        for (int[] m : new int[][] {{6144, 4096}, {4096, 4096}, {28672, 4096}, {4096, 14336}, {128256, 4096}}) {
            assertEquals(GearMatrix.slicedKernel(View.LOW, m[0], m[1]), GearMatrix.slicedKernel(View.LOW, m[0], m[1], ring));
        }
        // MID: 4 x 4 for 16,384+ rows, 4 x 2 under 4,096, else the register table
        assertEquals(GearMatrix.MID_ASYNC_4X4, GearMatrix.slicedKernel(View.MID, 28672, 4096, ring));
        assertEquals(GearMatrix.MID_ASYNC_4X4, GearMatrix.slicedKernel(View.MID, 128256, 2048, ring));
        assertEquals(GearMatrix.MID_ASYNC_4X4, GearMatrix.slicedKernel(View.MID, 16384, 2048, ring));
        assertEquals(GearMatrix.MID_ASYNC_4X2, GearMatrix.slicedKernel(View.MID, 3072, 2048, ring));
        assertEquals(GearMatrix.MID_ASYNC_4X2, GearMatrix.slicedKernel(View.MID, 2048, 8192, ring));
        assertEquals(new Sliced("gemv_midi_s4x1", 4, 1), GearMatrix.slicedKernel(View.MID, 6144, 4096, ring));
        assertNull(GearMatrix.slicedKernel(View.MID, 4096, 4096, ring));
        assertNull(GearMatrix.slicedKernel(View.MID, 4096, 14336, ring));
        // a ring that would not fit a block of 1,024 threads: the register table
        assertEquals(new Sliced("gemv_midi_s4x1", 4, 1), GearMatrix.slicedKernel(View.MID, 2048, 32768, ring));
        assertEquals(288, GearMatrix.MID_ASYNC_4X4.ringBytesPerThread());
        assertEquals(16, GearMatrix.MID_ASYNC_4X4.rowsPerBlock());
    }

    @Test
    void byShapeTakesTheRingTableOnCardsWithManyDramBytesPerCycle() {
        assertEquals(NestedKernels.BY_SHAPE_REGISTERS, NestedKernels.BY_SHAPE.forCard(12.8));  // H100 SXM, from its data-sheet clocks
        assertEquals(NestedKernels.BY_SHAPE_RING, NestedKernels.BY_SHAPE.forCard(18.4));       // H200, as its driver reports it
        assertEquals(NestedKernels.BY_SHAPE_REGISTERS, NestedKernels.BY_SHAPE.forCard(0));     // clocks unknown
        assertEquals(NestedKernels.SLICED_4X1, NestedKernels.SLICED_4X1.forCard(18.8));
        assertEquals(NestedKernels.BY_SHAPE_REGISTERS, NestedKernels.BY_SHAPE_REGISTERS.forCard(18.8));
    }

    @Test
    void denseViewsAndRowsBeyondOneBlockKeepTheWarpPerRowKernels() {
        assertNull(GearMatrix.slicedKernel(View.F16, 4096, 4096));
        assertNull(GearMatrix.slicedKernel(View.BF16, 4096, 4096));
        assertNull(GearMatrix.slicedKernel(View.LOW, 4096, 32 * 1024 + 32));  // 33 warps would not fit a block
        assertNull(GearMatrix.slicedKernel(View.LOW, 4096, 4096 + 16));       // not whole 32-weight blocks
    }
}
