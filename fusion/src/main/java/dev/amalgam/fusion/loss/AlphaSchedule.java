package dev.amalgam.fusion.loss;

/**
 * WRPO's progressive adaptation: the weight of the source-chosen reward rises linearly from 0 to {@code alphaEnd}
 * over the run, {@code alpha(step) = alphaEnd * min(1, step / totalSteps)}; the fixed variant (the paper's ablation)
 * uses {@code alphaEnd} from the first step.
 *
 * <pre>{@code
 * AlphaSchedule s = AlphaSchedule.linear(0.1, 300);
 * s.alpha(150); // 0.05
 * }</pre>
 *
 * @param alphaEnd final (or fixed) alpha in [0, 1]
 * @param totalSteps N = total optimizer steps of the preference stage (> 0)
 * @param fixed whether alpha stays at {@code alphaEnd} throughout
 */
public record AlphaSchedule(double alphaEnd, long totalSteps, boolean fixed) {

    public AlphaSchedule {
        if (!(alphaEnd >= 0 && alphaEnd <= 1)) {
            throw new IllegalArgumentException("alpha_end must be in [0, 1], got " + alphaEnd);
        }
        if (totalSteps <= 0) {
            throw new IllegalArgumentException("total steps must be > 0, got " + totalSteps);
        }
    }

    public static AlphaSchedule linear(double alphaEnd, long totalSteps) {
        return new AlphaSchedule(alphaEnd, totalSteps, false);
    }

    public static AlphaSchedule fixed(double alphaEnd) {
        return new AlphaSchedule(alphaEnd, 1, true);
    }

    /** Alpha at optimizer step {@code step} (0-based: the first update uses alpha(0)). */
    public double alpha(long step) {
        if (step < 0) {
            throw new IllegalArgumentException("step must be >= 0, got " + step);
        }
        return fixed ? alphaEnd : alphaEnd * Math.min(1.0, (double) step / totalSteps);
    }
}
