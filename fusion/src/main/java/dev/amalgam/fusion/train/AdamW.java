package dev.amalgam.fusion.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * AdamW (Loshchilov and Hutter, arXiv:1711.05101) with PyTorch's semantics: decoupled weight decay
 * {@code p -= lr * wd * p}, then {@code p -= lr * m_hat / (sqrt(v_hat) + eps)} with bias-corrected moments. Moments are
 * FP32 arrays on the parameters' device, owned by the optimizer's manager.
 *
 * <pre>{@code
 * AdamW opt = new AdamW(manager, 0.9, 0.999, 1e-8, 0.0);
 * opt.update(params, grads, lr, step); // step counts from 1
 * }</pre>
 */
public final class AdamW {

    private final NDManager manager;
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final Map<String, NDArray> m = new LinkedHashMap<>();
    private final Map<String, NDArray> v = new LinkedHashMap<>();

    public AdamW(NDManager manager, double beta1, double beta2, double eps, double weightDecay) {
        this.manager = manager;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
    }

    /**
     * Updates {@code master} in place from its FP32 gradient.
     *
     * @param t 1-based count of updates so far including this one (bias correction)
     */
    public void update(String name, NDArray master, NDArray grad, double lr, long t) {
        NDArray mt = m.computeIfAbsent(name, k -> zerosLike(master));
        NDArray vt = v.computeIfAbsent(name, k -> zerosLike(master));
        try (NDManager scope = manager.newSubManager()) {
            // Every temporary of this update allocates in scope (ops allocate in their first operand's manager).
            grad.tempAttach(scope);
            mt.tempAttach(scope);
            vt.tempAttach(scope);
            master.tempAttach(scope);
            mt.muli(beta1).addi(grad.mul(1 - beta1));
            vt.muli(beta2).addi(grad.square().mul(1 - beta2));
            double c1 = 1 - Math.pow(beta1, t);
            double c2 = 1 - Math.pow(beta2, t);
            if (weightDecay != 0) {
                master.muli(1 - lr * weightDecay);
            }
            master.subi(mt.div(vt.div(c2).sqrt().add(eps)).mul(lr / c1));
        }
    }

    private NDArray zerosLike(NDArray a) {
        NDArray z = manager.zeros(a.getShape(), DataType.FLOAT32, a.getDevice());
        return z;
    }

    /** First moments by parameter name (live arrays, for checkpoints). */
    public Map<String, NDArray> firstMoments() {
        return m;
    }

    /** Second moments by parameter name (live arrays, for checkpoints). */
    public Map<String, NDArray> secondMoments() {
        return v;
    }

    /** The manager owning the moments. */
    public NDManager manager() {
        return manager;
    }
}
