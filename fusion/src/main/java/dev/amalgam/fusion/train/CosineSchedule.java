package dev.amalgam.fusion.train;

/**
 * Learning rate with linear warmup then cosine decay to 0, as {@code transformers}'
 * {@code get_cosine_schedule_with_warmup}: {@code warmupSteps = ceil(warmupRatio * totalSteps)};
 * {@code lr(s) = peak * s / warmupSteps} during warmup, then
 * {@code peak * 0.5 * (1 + cos(pi * (s - warmupSteps) / max(1, totalSteps - warmupSteps)))}.
 *
 * @param peak the learning rate after warmup
 * @param totalSteps optimizer steps of the stage
 * @param warmupSteps steps of linear warmup
 */
public record CosineSchedule(double peak, long totalSteps, long warmupSteps) {

    public CosineSchedule {
        if (!(peak >= 0) || totalSteps <= 0 || warmupSteps < 0) {
            throw new IllegalArgumentException("need peak >= 0, totalSteps > 0, warmupSteps >= 0");
        }
    }

    public static CosineSchedule withWarmupRatio(double peak, long totalSteps, double warmupRatio) {
        return new CosineSchedule(peak, totalSteps, (long) Math.ceil(warmupRatio * totalSteps));
    }

    /** The learning rate of the update at 0-based step {@code step}. */
    public double lr(long step) {
        if (step < warmupSteps) {
            return peak * step / Math.max(1, warmupSteps);
        }
        double progress = (double) (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
        return peak * Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * progress)));
    }
}
