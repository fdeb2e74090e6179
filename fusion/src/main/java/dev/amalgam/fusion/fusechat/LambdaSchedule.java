package dev.amalgam.fusion.fusechat;

/**
 * The weight lambda of the language-modelling term in {@code lambda * L_clm + (1 - lambda) * L_fuse}:
 * fixed (the authors' {@code lm_loss_weight}, 0.9 in their recipes) or rising linearly to 1 over training,
 * {@code lambda(step) = lambda0 + (1 - lambda0) * step / totalSteps} (their {@code hard_and_decay} option, with
 * step = the optimizer updates done so far and totalSteps = the run's {@code max_steps}; the fusion term fades
 * out). Steps past totalSteps stay at 1.
 *
 * @param lambda0 lambda at step 0, in [0, 1]
 * @param totalSteps steps of the run (> 0; unused when fixed)
 * @param rising whether lambda rises to 1
 */
public record LambdaSchedule(double lambda0, long totalSteps, boolean rising) {

    /** The authors' lm_loss_weight. */
    public static final double DEFAULT_LAMBDA = 0.9;

    public LambdaSchedule {
        if (!(lambda0 >= 0 && lambda0 <= 1)) {
            throw new IllegalArgumentException("lambda must be in [0, 1], got " + lambda0);
        }
        if (totalSteps <= 0) {
            throw new IllegalArgumentException("total steps must be > 0, got " + totalSteps);
        }
    }

    public static LambdaSchedule fixed(double lambda) {
        return new LambdaSchedule(lambda, 1, false);
    }

    public static LambdaSchedule rising(double lambda0, long totalSteps) {
        return new LambdaSchedule(lambda0, totalSteps, true);
    }

    /** Lambda at optimizer step {@code step} (0-based: the first update uses lambda(0) = lambda0). */
    public double lambda(long step) {
        if (step < 0) {
            throw new IllegalArgumentException("step must be >= 0, got " + step);
        }
        return rising ? lambda0 + (1 - lambda0) * Math.min(1.0, (double) step / totalSteps) : lambda0;
    }
}
