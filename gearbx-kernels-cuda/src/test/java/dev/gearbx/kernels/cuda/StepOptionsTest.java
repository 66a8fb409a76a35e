package dev.gearbx.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gearbx.kernels.cuda.StepOptions.NestedKernels;
import dev.gearbx.kernels.cuda.StepOptions.PersistentLow;
import org.junit.jupiter.api.Test;

/** The launch options' rules that need no GPU: the persistent LOW kernel's property, conditions and sizes. */
class StepOptionsTest {

    @Test
    void persistentLowPropertyNamesAVariantOrOff() {
        assertEquals(StepOptions.DEFAULT_PERSISTENT_LOW, StepOptions.persistentLow(null));
        assertEquals(StepOptions.DEFAULT_PERSISTENT_LOW, StepOptions.persistentLow(" "));
        assertEquals(PersistentLow.R4D4, StepOptions.persistentLow("r4d4"));
        assertEquals(PersistentLow.R8D2, StepOptions.persistentLow(" R8D2 "));
        assertEquals(PersistentLow.OFF, StepOptions.persistentLow("off"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StepOptions.persistentLow("r3"));
        assertTrue(e.getMessage().contains(CudaBackendProvider.PERSISTENT_LOW) && e.getMessage().contains("'r3'"),
                e.getMessage());
    }

    @Test
    void slicedNestedPropertyNamesATableOrNone() {
        assertEquals(NestedKernels.BY_SHAPE, StepOptions.nestedKernels(null));
        assertEquals(NestedKernels.BY_SHAPE, StepOptions.nestedKernels("true"));
        assertEquals(NestedKernels.BY_SHAPE, StepOptions.nestedKernels(" Auto "));
        assertEquals(NestedKernels.BY_SHAPE_REGISTERS, StepOptions.nestedKernels("registers"));
        assertEquals(NestedKernels.BY_SHAPE_RING, StepOptions.nestedKernels("RING"));
        assertEquals(NestedKernels.WARP_PER_ROW, StepOptions.nestedKernels("false"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StepOptions.nestedKernels("yes"));
        assertTrue(e.getMessage().contains("gearbx.cuda.slicedNested") && e.getMessage().contains("'yes'"), e.getMessage());
    }

    @Test
    void persistentLowOnlyWithTheFusedByShapeProgram() {
        StepOptions on = StepOptions.DEFAULT.withPersistentLow(PersistentLow.R4D4);
        assertTrue(on.wantsPersistentLow());
        assertFalse(StepOptions.DEFAULT.withPersistentLow(PersistentLow.OFF).wantsPersistentLow());
        assertFalse(on.withFusedNorm(false).wantsPersistentLow(), "RMSNorm kernels");
        assertFalse(on.withNested(NestedKernels.SLICED_4X1).wantsPersistentLow(), "a forced nested kernel");
        assertFalse(new StepOptions(true, true, 2).withPersistentLow(PersistentLow.R4D4).wantsPersistentLow(),
                "fixed rows per warp");
        assertFalse(new StepOptions(true, true, 0, false).withPersistentLow(PersistentLow.R4D4).wantsPersistentLow(),
                "exact LOW decode");
    }

    @Test
    void ringAndLayerTableSizeTheSharedMemory() {
        // depth x rows x 512 threads x (16 + 4) bytes, then 192 bytes per layer
        assertEquals(4 * 4 * 512 * 20 + 192 * 32, PersistentLow.R4D4.sharedBytes(32));
        assertEquals(2 * 8 * 512 * 20 + 192 * 16, PersistentLow.R8D2.sharedBytes(16));
        assertEquals(2 * 4 * 512 * 20, PersistentLow.R4D2.sharedBytes(0));
    }
}
