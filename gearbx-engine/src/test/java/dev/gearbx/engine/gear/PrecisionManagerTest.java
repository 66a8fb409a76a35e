package dev.gearbx.engine.gear;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gearbx.engine.model.LlamaModel;
import dev.gearbx.engine.model.LlamaState;
import dev.gearbx.engine.model.LlamaWeights;
import dev.gearbx.engine.tensor.Kernels;
import dev.gearbx.engine.tensor.PackedMatrix;
import dev.gearbx.engine.testing.TestModels;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/** The precision manager on the real stories260K model. */
class PrecisionManagerTest {

    @Test
    void defaultManagesAttentionOfEveryBlockLazily() {
        try (LlamaModel m = LlamaModel.load(TestModels.stories260K())) {
            assertEquals(5 * 4, m.precision().managedCount(), "q, k, v, o of 5 blocks");
            LlamaWeights.Layer l0 = m.weights().layers()[0];
            assertTrue(l0.wq().managed());
            assertTrue(!l0.wGate().managed(), "MLP not managed by default");
            assertTrue(m.memory().offHeapBytes() == 0, "nothing quantized before a shift needs it");
            assertSame(l0.wq().original(), l0.wq().at(Gear.HIGH));
            PackedMatrix low = (PackedMatrix) l0.wq().at(Gear.LOW);
            PackedMatrix mid = (PackedMatrix) l0.wq().at(Gear.MID);
            assertEquals(mid.data().address(), low.data().address(), "LOW and MID views start at the same nested storage");
            assertTrue(low.byteSize() < mid.byteSize(), "LOW's view is a prefix of MID's");
            assertSame(low, l0.wq().at(Gear.LOW), "built once");
            assertTrue(m.memory().offHeapBytes() > 0);
        }
    }

    @Test
    void lowReadsAboutHalfOfMidAndAQuarterOfF32() {
        GearConfig all = GearConfig.builder().scope(ManagedScope.ALL).eager(true).build();
        try (LlamaModel m = LlamaModel.load(TestModels.stories260K(), Kernels.preferred(), all)) {
            MemoryReport r = m.memory();
            // ffn_down rows hold 172 weights, not a whole number of groups: it stays F32
            assertEquals(5 * 6, m.precision().managedCount());
            long managedF32 = 0;
            for (LlamaWeights.Layer l : m.weights().layers()) {
                for (Linear lin : l.linears()) {
                    managedF32 += lin.managed() ? lin.original().byteSize() : 0;
                }
            }
            long high = r.bytesReadPerToken().get(Gear.HIGH);
            // a 2-byte scale per group of G: LOW 0.5 + 2/G bytes per weight, MID 1 + 2/G, HIGH (F32) 4
            double g = all.groupSize();
            assertEquals(high - managedF32 + managedF32 / 4.0 * (0.5 + 2.0 / g), r.bytesReadPerToken().get(Gear.LOW), 1);
            assertEquals(high - managedF32 + managedF32 / 4.0 * (1.0 + 2.0 / g), r.bytesReadPerToken().get(Gear.MID), 1);
        }
    }

    @Test
    void aShiftIsAFieldWriteThatAllocatesNothing() {
        try (LlamaModel m = LlamaModel.load(TestModels.stories260K())) {
            m.precision().prepare(Gear.LOW);
            m.precision().prepare(Gear.MID);
            LlamaState s = m.newState(64);
            Linear wq = m.weights().layers()[0].wq();
            var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long tid = Thread.currentThread().threadId();
            Gear[] gears = Gear.values();
            for (int i = 0; i < 10_000; i++) { // warm up
                s.shift(gears[i % 3]);
                wq.at(s.gear());
            }
            long before = threads.getThreadAllocatedBytes(tid);
            for (int i = 0; i < 100_000; i++) {
                s.shift(gears[i % 3]);
                wq.at(s.gear());
            }
            long allocated = threads.getThreadAllocatedBytes(tid) - before;
            assertTrue(allocated < 1024, "100,000 shifts allocated " + allocated + " bytes");
        }
    }

    @Test
    void pinnedGearsGiveDifferentButCloseLogits() {
        try (LlamaModel m = LlamaModel.load(TestModels.stories260K(), Kernels.preferred(),
                GearConfig.builder().scope(ManagedScope.ALL).build())) {
            float[][] logits = new float[3][];
            for (Gear g : Gear.values()) {
                LlamaState s = m.newState(8);
                s.shift(g);
                for (int t : new int[] {1, 403, 407, 261, 378}) {
                    logits[g.ordinal()] = m.forward(s, t).clone();
                }
            }
            assertNotSame(logits[0], logits[2]);
            double dLow = 0;
            double dMid = 0;
            for (int i = 0; i < 512; i++) {
                dLow += Math.abs(logits[0][i] - logits[2][i]);
                dMid += Math.abs(logits[1][i] - logits[2][i]);
            }
            assertTrue(dMid > 0 && dMid < dLow, "MID closer to HIGH than LOW: mid " + dMid + " low " + dLow);
        }
    }

    @Test
    void invalidConfigurationsAreNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GearConfig.builder().groupSize(48).build());
        assertTrue(e.getMessage().contains("groupSize") && e.getMessage().contains("48"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> GearConfig.builder().format(Gear.LOW, GearFormat.NESTED_MID).build());
        assertTrue(e.getMessage().contains("NESTED"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> GearConfig.builder().layers(-1).build());
    }
}
