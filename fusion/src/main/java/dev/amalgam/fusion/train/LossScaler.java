package dev.amalgam.fusion.train;

/**
 * Dynamic loss scaling for FP16 compute (as {@code torch.cuda.amp.GradScaler}): the loss is multiplied by
 * {@link #scale()} before backward so small gradients survive FP16; a step whose gradients overflow is skipped and the
 * scale halved; after {@code growthInterval} good steps the scale doubles. FP32 training uses {@link #none()}.
 */
public final class LossScaler {

    private final boolean enabled;
    private final int growthInterval;
    private double scale;
    private int goodSteps;

    private LossScaler(boolean enabled, double scale, int growthInterval) {
        this.enabled = enabled;
        this.scale = scale;
        this.growthInterval = growthInterval;
    }

    /** Scale 1, never changes (FP32). */
    public static LossScaler none() {
        return new LossScaler(false, 1.0, Integer.MAX_VALUE);
    }

    /** PyTorch's defaults: initial 2^16, growth every 2000 good steps. */
    public static LossScaler dynamic() {
        return new LossScaler(true, 65536.0, 2000);
    }

    public double scale() {
        return scale;
    }

    public boolean enabled() {
        return enabled;
    }

    /** Records a step's outcome; returns whether the update may be applied (gradients finite). */
    public boolean update(boolean finite) {
        if (!finite) {
            if (!enabled) {
                return false;
            }
            scale = Math.max(1.0, scale / 2);
            goodSteps = 0;
            return false;
        }
        if (enabled && ++goodSteps >= growthInterval) {
            scale *= 2;
            goodSteps = 0;
        }
        return true;
    }

    /** State for checkpoints: {scale, goodSteps}. */
    public double[] state() {
        return new double[] {scale, goodSteps};
    }

    public void restore(double[] state) {
        scale = state[0];
        goodSteps = (int) state[1];
    }
}
