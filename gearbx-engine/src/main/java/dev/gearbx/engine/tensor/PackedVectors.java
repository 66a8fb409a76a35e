package dev.gearbx.engine.tensor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Species shared by the packed kernels: {@code L} bytes of codes sign-extend to one {@code L}-lane int vector,
 * converted in-register to floats. The packed layouts work in 16-byte blocks, so the vector paths need
 * {@code L} to divide 16 with a byte species of {@code L} lanes: 8 (AVX2) or 16 (AVX-512); otherwise (and on
 * narrower machines) the kernels take the scalar path.
 */
final class PackedVectors {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = F.withLanes(int.class);
    static final int L = F.length();
    static final VectorSpecies<Byte> B = L == 8 || L == 16 ? VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8)) : null;
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private PackedVectors() {}

    static boolean available() {
        return B != null;
    }

    /** {@code L} signed bytes at {@code offset}, sign-extended to ints. */
    static IntVector bytes(MemorySegment seg, long offset) {
        return (IntVector) ByteVector.fromMemorySegment(B, seg, offset, LE).convertShape(VectorOperators.B2I, I, 0);
    }

    static FloatVector toFloat(IntVector v) {
        return (FloatVector) v.convert(VectorOperators.I2F, 0);
    }
}
