package dev.amalgam.fusion.loss;

import ai.djl.ndarray.NDArray;
import dev.amalgam.modelengine.OwnedArrays;

/**
 * The preference losses as pure functions of log-prob vectors (in the manner of TRL's {@code DPOTrainer.dpo_loss}),
 * separate from the training loop. Log-probs are summed over response tokens; D(y) = log pi(y) - log pi_ref(y).
 * With {@code S_ls(z) = -(1 - ls) log sigmoid(z) - ls log sigmoid(-z)} (TRL's label smoothing, the conservative
 * DPO of Mitchell's cDPO note; {@code ls = 0} is the plain {@code -log sigmoid(z)}):
 *
 * <ul>
 *   <li>wrpo: {@code S_ls(beta * (alpha D(y_ws) + (1 - alpha) D(y_wt) - D(y_l)))}</li>
 *   <li>dpo: {@code S_ls(beta * (D(y_w) - D(y_l)))}</li>
 *   <li>dpo_multi: {@code (S_ls(beta * (D(y_ws) - D(y_l))) + S_ls(beta * (D(y_wt) - D(y_l)))) / 2}</li>
 *   <li>ipo: {@code (d(y_w) - d(y_l) - 1 / (2 beta))^2} with d on per-token mean log-probs (as TRL); no smoothing</li>
 *   <li>simpo: {@code S_ls(beta * (mean log pi(y_w) - mean log pi(y_l)) - gamma)}, no reference</li>
 * </ul>
 * For dpo, ipo and simpo, y_w is y_wt (the on-policy pair of the target) or y_ws, as chosen by
 * {@code baselineChosen}; wrpo and dpo_multi use both chosen responses and ignore it.
 *
 * <pre>{@code
 * LossOutput out = PreferenceLosses.compute(LossType.WRPO, policy, reference, lengths, 0.05, 0.01, 0, 0,
 *         BaselineChosen.TARGET);
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

    /** Label smoothing must stay below this: at 0.5 the loss no longer prefers either response. */
    public static final double MAX_LABEL_SMOOTHING = 0.5;

    private PreferenceLosses() {
    }

    /**
     * @param policy policy log-probs (in the autograd graph while training)
     * @param reference reference log-probs (ignored by simpo; may be null for it)
     * @param lengths response token counts as FP32 (used by ipo and simpo; may be null for the others)
     * @param alpha WRPO weight of the source-chosen reward at this step
     * @param beta the KL (or, for simpo, reward-scale) coefficient
     * @param gamma SimPO's target margin (ignored by the others)
     * @param labelSmoothing ls in [0, 0.5): the assumed probability that a preference label is flipped; must be 0
     *     for ipo
     * @throws IllegalArgumentException for a label smoothing out of range, or above 0 with ipo
     */
    public static LossOutput compute(LossType type, SequenceLogps policy, SequenceLogps reference,
            SequenceLogps lengths, double alpha, double beta, double gamma, double labelSmoothing,
            BaselineChosen baselineChosen) {
        if (!(labelSmoothing >= 0 && labelSmoothing < MAX_LABEL_SMOOTHING)) {
            throw new IllegalArgumentException("label smoothing must be in [0, 0.5), got " + labelSmoothing);
        }
        if (labelSmoothing > 0 && !type.supportsLabelSmoothing()) {
            throw new IllegalArgumentException(type.id() + " has no label smoothing, got " + labelSmoothing);
        }
        return switch (type) {
            case WRPO -> wrpo(policy, reference, alpha, beta, labelSmoothing);
            case DPO -> dpo(policy, reference, beta, labelSmoothing, baselineChosen);
            case DPO_MULTI -> dpoMulti(policy, reference, beta, labelSmoothing);
            case IPO -> ipo(policy, reference, lengths, beta, baselineChosen);
            case SIMPO -> simpo(policy, lengths, beta, gamma, labelSmoothing, baselineChosen);
        };
    }

    static LossOutput wrpo(SequenceLogps p, SequenceLogps r, double alpha, double beta, double ls) {
        NDArray dSource = p.sourceChosen().sub(r.sourceChosen());
        NDArray dTarget = p.targetChosen().sub(r.targetChosen());
        NDArray dRejected = p.rejected().sub(r.rejected());
        NDArray dChosen = mul(dSource, alpha).add(mul(dTarget, 1 - alpha)); // the fused chosen log-ratio
        NDArray losses = smoothedLogSigmoidLoss(mul(dChosen.sub(dRejected), beta), ls);
        return new LossOutput(losses, mul(dChosen, beta), mul(dSource, beta), mul(dTarget, beta), mul(dRejected, beta));
    }

    static LossOutput dpo(SequenceLogps p, SequenceLogps r, double beta, double ls, BaselineChosen which) {
        NDArray dSource = p.sourceChosen().sub(r.sourceChosen());
        NDArray dTarget = p.targetChosen().sub(r.targetChosen());
        NDArray dRejected = p.rejected().sub(r.rejected());
        NDArray dChosen = which == BaselineChosen.TARGET ? dTarget : dSource;
        NDArray losses = smoothedLogSigmoidLoss(mul(dChosen.sub(dRejected), beta), ls);
        return new LossOutput(losses, mul(dChosen, beta), mul(dSource, beta), mul(dTarget, beta), mul(dRejected, beta));
    }

    /**
     * The authors' two-chosen DPO: one DPO term per chosen response against the same rejected one, averaged; the
     * chosen reward it reports is the mean of the two (as their trainer's "weighted" chosen reward for this loss).
     */
    static LossOutput dpoMulti(SequenceLogps p, SequenceLogps r, double beta, double ls) {
        NDArray dSource = p.sourceChosen().sub(r.sourceChosen());
        NDArray dTarget = p.targetChosen().sub(r.targetChosen());
        NDArray dRejected = p.rejected().sub(r.rejected());
        NDArray sourceTerm = smoothedLogSigmoidLoss(mul(dSource.sub(dRejected), beta), ls);
        NDArray targetTerm = smoothedLogSigmoidLoss(mul(dTarget.sub(dRejected), beta), ls);
        NDArray losses = mul(sourceTerm.add(targetTerm), 0.5);
        NDArray chosen = mul(dSource.add(dTarget), 0.5 * beta);
        return new LossOutput(losses, chosen, mul(dSource, beta), mul(dTarget, beta), mul(dRejected, beta));
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

    static LossOutput simpo(SequenceLogps p, SequenceLogps len, double beta, double gamma, double ls,
            BaselineChosen which) {
        NDArray source = mul(p.sourceChosen().div(len.sourceChosen()), beta);
        NDArray target = mul(p.targetChosen().div(len.targetChosen()), beta);
        NDArray rejected = mul(p.rejected().div(len.rejected()), beta);
        NDArray chosen = which == BaselineChosen.TARGET ? target : source;
        NDArray losses = smoothedLogSigmoidLoss(OwnedArrays.sub(chosen.sub(rejected), gamma), ls);
        return new LossOutput(losses, chosen, source, target, rejected);
    }

    /**
     * TRL's label-smoothed sigmoid loss {@code -(1 - ls) log sigmoid(z) - ls log sigmoid(-z)}; with ls = 0 exactly
     * the plain {@link #logSigmoidLoss} (no second term is built).
     */
    static NDArray smoothedLogSigmoidLoss(NDArray z, double ls) {
        if (ls == 0) {
            return logSigmoidLoss(z);
        }
        return mul(logSigmoidLoss(z), 1 - ls).add(mul(logSigmoidLoss(z.neg()), ls));
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
