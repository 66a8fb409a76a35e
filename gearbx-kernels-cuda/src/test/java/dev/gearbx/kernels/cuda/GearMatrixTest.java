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
        assertEquals(new Sliced("gemv_midi_s4x1", 4, 1), GearMatrix.slicedKernel(View.MID, 256, 64, NestedKernels.SLICED_ASYNC_2X8));
        assertEquals(new Sliced("gemv_midi_s4x1", 4, 1), GearMatrix.slicedKernel(View.MID, 256, 512, NestedKernels.SLICED_2X4));
        assertNull(GearMatrix.slicedKernel(View.LOW, 256, 256, NestedKernels.BY_SHAPE));
        assertNull(GearMatrix.slicedKernel(View.LOW, 6144, 4096, NestedKernels.WARP_PER_ROW));
        assertNull(GearMatrix.slicedKernel(View.F16, 256, 256, NestedKernels.SLICED_4X1));
    }

    @Test
    void denseViewsAndRowsBeyondOneBlockKeepTheWarpPerRowKernels() {
        assertNull(GearMatrix.slicedKernel(View.F16, 4096, 4096));
        assertNull(GearMatrix.slicedKernel(View.BF16, 4096, 4096));
        assertNull(GearMatrix.slicedKernel(View.LOW, 4096, 32 * 1024 + 32));  // 33 warps would not fit a block
        assertNull(GearMatrix.slicedKernel(View.LOW, 4096, 4096 + 16));       // not whole 32-weight blocks
    }
}
