package dev.gearbx.engine.generate;

import dev.gearbx.engine.gear.Gear;
import org.jspecify.annotations.Nullable;

/**
 * A rule consulted inside every decode step of a {@link Generation}, on the thread that runs the
 * step: it can rerun a step whose logits are not finite at another gear, and override the gear the
 * router chose for the next step. One instance per generation (made by the request's supplier), so
 * it may keep per-sequence state. The default methods change nothing.
 *
 * <p>Order inside a step: forward at the current gear; if the logits hold NaN or infinity,
 * {@link #onNonFiniteLogits} (the step is rerun once at the returned higher gear; if that fails
 * too, the generation ends); entropy; the router's policy proposes the next gear; {@link #nextGear} may
 * replace it; sampling.
 */
public interface StepInterceptor {

    /** Changes nothing: a step with non-finite logits ends the generation with a {@link NumericalInstabilityException}. */
    StepInterceptor NONE = new StepInterceptor() {};

    /** The engine's default NaN guard: rerun a step with non-finite logits one gear higher (HIGH gives up). */
    StepInterceptor RETRY_ONE_GEAR_UP = new StepInterceptor() {
        @Override
        public @Nullable Gear onNonFiniteLogits(int position, Gear gear) {
            Gear up = gear.up();
            return up == gear ? null : up;
        }
    };

    /**
     * The logits of the step at {@code position}, run at {@code gear}, hold NaN or infinity.
     *
     * @return a higher gear to rerun the step at, or null to end the generation with a
     *     {@link NumericalInstabilityException}
     */
    default @Nullable Gear onNonFiniteLogits(int position, Gear gear) {
        return null;
    }

    /**
     * After the step's entropy is recorded and the router proposed the gear of the next step.
     *
     * @return the gear of the next step ({@code proposed} to keep the router's choice)
     */
    default Gear nextGear(StepInfo step, Gear proposed) {
        return proposed;
    }

    /**
     * What a decode step saw.
     *
     * @param index index of the token this step produces (0 for the first generated token)
     * @param position position of the step in the sequence
     * @param gear gear the step ran at
     * @param entropy entropy in bits of the step's next-token distribution
     * @param smoothedEntropy the entropy monitor's window average after this step
     * @param vocabularySize size of the distribution ({@code log2} of it is the entropy of uniform noise)
     * @param logits the step's raw logits; owned by the sequence state and overwritten by the next
     *     step: read them during the call only, never modify them
     */
    record StepInfo(int index, int position, Gear gear, float entropy, float smoothedEntropy, int vocabularySize,
            float[] logits) {}
}
