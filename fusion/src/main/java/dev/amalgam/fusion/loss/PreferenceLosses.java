package dev.amalgam.fusion.loss;

import ai.djl.ndarray.NDArray;
import dev.amalgam.modelengine.OwnedArrays;

/**
 * The preference losses as pure functions of log-prob vectors (in the manner of TRL's {@code DPOTrainer.dpo_loss}),
 * separate from the training loop. Log-probs are summed over response tokens; D(y) = log pi(y) - log pi_ref(y).
 *
 * <ul>
 *   <li>wrpo: {@code -log sigmoid(beta * (alpha D(y_ws) + (1 - alpha) D(y_wt) - D(y_l)))}</li>
 *   <li>dpo: {@code -log sigmoid(beta * (D(y_w) - D(y_l)))}</li>
 *   <li>ipo: {@code (d(y_w) - d(y_l) - 1 / (2 beta))^2} with d on per-token mean log-probs (as TRL)</li>
 *   <li>simpo: {@code -log sigmoid(beta * (mean log pi(y_w) - mean log pi(y_l)) - gamma)}, no reference</li>
 * </ul>
 * For the baselines, y_w is y_wt (the on-policy pair of the target) or y_ws, as chosen by {@code baselineChosen}.
 *
 * <pre>{@code
 * LossOutput out = PreferenceLosses.compute(LossType.WRPO, policy, reference, lengths, 0.05, 0.01, 0, BaselineChosen.TARGET);
 * NDArray loss = out.losses().mean();
 * }</pre>
 */
public final class PreferenceLosses {

    /** Which chosen response the two-response baselines (dpo, ipo, simpo) compare with the rejected one. */
    public enum BaselineChosen {
        /** y_wt, the best of the target's own samples (the on-policy DPO of the paper's baselines). */
        TARGET,
        /** y_ws, the best source response. */
        SOURCE
    }

    private PreferenceLosses() {
    }

    /**
     * @param policy policy log-probs (in the autograd graph while training)
     * @param reference reference log-probs (ignored by simpo; may be null for it)
     * @param lengths response token counts as FP32 (used by ipo and simpo; may be null for wrpo and dpo)
     * @param alpha WRPO weight of the source-chosen reward at this step
     * @param beta the KL (or, for simpo, reward-scale) coefficient
     * @param gamma SimPO's target margin (ignored by the others)
     */
    public static LossOutput compute(LossType type, SequenceLogps policy, SequenceLogps reference, SequenceLogps lengths,
            double alpha, double beta, double gamma, BaselineChosen baselineChosen) {
        return switch (type) {
            case WRPO -> wrpo(policy, reference, alpha, beta);
            case DPO -> dpo(policy, reference, beta, baselineChosen);
            case IPO -> ipo(policy, reference, lengths, beta, baselineChosen);
            case SIMPO -> simpo(policy, lengths, beta, gamma, baselineChosen);
        };
    }

    static LossOutput wrpo(SequenceLogps p, SequenceLogps r, double alpha, double beta) {
        NDArray dSource = p.sourceChosen().sub(r.sourceChosen());
        NDArray dTarget = p.targetChosen().sub(r.targetChosen());
        NDArray dRejected = p.rejected().sub(r.rejected());
        NDArray dChosen = mul(dSource, alpha).add(mul(dTarget, 1 - alpha)); // the fused chosen log-ratio
        NDArray losses = logSigmoidLoss(mul(dChosen.sub(dRejected), beta));
        return new LossOutput(losses, mul(dChosen, beta), mul(dSource, beta), mul(dTarget, beta), mul(dRejected, beta));
    }

    static LossOutput dpo(SequenceLogps p, SequenceLogps r, double beta, BaselineChosen which) {
        NDArray dSource = p.sourceChosen().sub(r.sourceChosen());
        NDArray dTarget = p.targetChosen().sub(r.targetChosen());
        NDArray dRejected = p.rejected().sub(r.rejected());
        NDArray dChosen = which == BaselineChosen.TARGET ? dTarget : dSource;
        NDArray losses = logSigmoidLoss(mul(dChosen.sub(dRejected), beta));
        return new LossOutput(losses, mul(dChosen, beta), mul(dSource, beta), mul(dTarget, beta), mul(dRejected, beta));
    }

    static LossOutput ipo(SequenceLogps p, SequenceLogps r, SequenceLogps len, double beta, BaselineChosen which) {
        // TRL's IPO averages log-probs over response tokens before taking ratios.
        NDArray dSource = p.sourceChosen().sub(r.sourceChosen()).div(len.sourceChosen());
        NDArray dTarget = p.targetChosen().sub(r.targetChosen()).div(len.targetChosen());
        NDArray dRejected = p.rejected().sub(r.rejected()).div(len.rejected());
        NDArray dChosen = which == BaselineChosen.TARGET ? dTarget : dSource;
        NDArray losses = OwnedArrays.sub(dChosen.sub(dRejected), 1 / (2 * beta)).square();
        return new LossOutput(losses, mul(dChosen, beta), mul(dSource, beta), mul(dTarget, beta), mul(dRejected, beta));
    }

    static LossOutput simpo(SequenceLogps p, SequenceLogps len, double beta, double gamma, BaselineChosen which) {
        NDArray source = mul(p.sourceChosen().div(len.sourceChosen()), beta);
        NDArray target = mul(p.targetChosen().div(len.targetChosen()), beta);
        NDArray rejected = mul(p.rejected().div(len.rejected()), beta);
        NDArray chosen = which == BaselineChosen.TARGET ? target : source;
        NDArray losses = logSigmoidLoss(OwnedArrays.sub(chosen.sub(rejected), gamma));
        return new LossOutput(losses, chosen, source, target, rejected);
    }

    /** -log sigmoid(z) = softplus(-z), computed stably as max(-z, 0) + log(1 + exp(-|z|)). */
    static NDArray logSigmoidLoss(NDArray z) {
        return OwnedArrays.maximum(z.neg(), 0).add(OwnedArrays.add(z.abs().neg().exp(), 1).log());
    }

    // Scalars of graph ops in PyTorch memory: DJL's x.mul(double) frees its scalar before backward reads it.
    private static NDArray mul(NDArray x, double factor) {
        return OwnedArrays.mul(x, factor);
    }
}
