package dev.gearbx.engine.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Species and bit tricks shared by the 16-bit weight formats. Shapes follow {@link FloatVector#SPECIES_PREFERRED}:
 * a 16-bit vector of the same lane count (half the bits) widens to one float vector.
 */
final class HalfVectors {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = F.withLanes(int.class);
    /** Null when the preferred float shape is too narrow to have a 16-bit companion; callers then stay scalar. */
    static final VectorSpecies<Short> S = shortSpecies();
    static final int L = F.length();

    private HalfVectors() {}

    private static VectorSpecies<Short> shortSpecies() {
        int bits = F.vectorBitSize() / 2;
        return bits >= 64 ? VectorSpecies.of(short.class, VectorShape.forBitSize(bits)) : null;
    }

    /** Whether the 16-bit vector paths are usable on this machine. */
    static boolean available() {
        return S != null;
    }

    /**
     * IEEE binary16 bits (one per lane) to floats, bit-exact with {@link Float#float16ToFloat} for all 65536 inputs
     * (NaNs are quieted and keep their payload, like the JDK's conversion).
     */
    static FloatVector halfToFloat(ShortVector h) {
        // Sign-extend each half to 32 bits: bit 31 is the half's sign.
        IntVector i = (IntVector) h.convertShape(VectorOperators.S2I, I, 0);
        // Shift exponent+mantissa to bits 27..13 and keep the sign at bit 31; the top 3 exponent bits stay 0.
        IntVector signMag = i.lanewise(VectorOperators.LSHL, 13).and(0x8fffe000);
        // Re-bias: the value is now 2^-112 times the half's value (also for subnormals), so scale by 2^112 (exact).
        FloatVector f = signMag.reinterpretAsFloats().mul(0x1p112f);
        // Half exponent 31 (Inf/NaN) became float exponent 143; setting all exponent bits yields Inf/NaN, payload kept.
        IntVector mag = i.and(0x7fff);
        VectorMask<Integer> infNan = mag.compare(VectorOperators.GE, 0x7c00);
        // NaNs come out quiet (quiet bit set), as Float.float16ToFloat returns them.
        VectorMask<Integer> nan = mag.compare(VectorOperators.GT, 0x7c00);
        return f.reinterpretAsInts()
                .lanewise(VectorOperators.OR, 0x7f800000, infNan)
                .lanewise(VectorOperators.OR, 0x00400000, nan)
                .reinterpretAsFloats();
    }

    /** bfloat16 bits (one per lane) to floats: the bf16 is the top half of the float. */
    static FloatVector bf16ToFloat(ShortVector h) {
        IntVector i = (IntVector) h.convertShape(VectorOperators.S2I, I, 0);
        return i.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }
}
