package dev.amalgam.fusion.train;

import ai.djl.ndarray.NDArray;
import java.util.Collection;

/**
 * Global-norm gradient clipping as {@code torch.nn.utils.clip_grad_norm_}: the L2 norm over all gradients together;
 * when it exceeds {@code maxNorm} every gradient is scaled by {@code maxNorm / (norm + 1e-6)}. (DJL's own clip option
 * clips element values on one side only, so it is not used.)
 */
public final class GradientClipping {

    private GradientClipping() {
    }

    /** The global L2 norm of {@code grads} (computed in FP32 per array, summed in double). */
    public static double globalNorm(Collection<NDArray> grads) {
        double sumSquares = 0;
        for (NDArray g : grads) {
            try (NDArray sq = g.square(); NDArray s = sq.sum()) {
                sumSquares += s.getFloat();
            }
        }
        return Math.sqrt(sumSquares);
    }

    /** Scales {@code grads} in place when {@code norm > maxNorm}; returns the factor applied (1 when none). */
    public static double clip(Collection<NDArray> grads, double norm, double maxNorm) {
        if (maxNorm <= 0 || !(norm > maxNorm)) {
            return 1.0;
        }
        double factor = maxNorm / (norm + 1e-6);
        for (NDArray g : grads) {
            g.muli(factor);
        }
        return factor;
    }
}
