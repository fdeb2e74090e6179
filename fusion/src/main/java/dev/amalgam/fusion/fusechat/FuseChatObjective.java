package dev.amalgam.fusion.fusechat;

import java.util.List;

/**
 * Step 5 of FuseChat, the training objective of one batch, as a pure function of the student's logits:
 * <pre>
 *   L = lambda * L_clm + (1 - lambda) * L_fuse
 *   L_clm  = (1/N) sum_{b,t} m_bt * -log p_bt(y_b,t+1)
 *   L_fuse = (1/N) sum_{b,t} m_bt * D(q_bt, p_bt)          D = CE or KL ({@link FuseLossType})
 *   p_bt = softmax(z_bt),  m_bt = 1 where labels[b][t+1] != -100 (0 at the last position),  N = sum m_bt
 * </pre>
 * {@code labels} are Hugging Face causal-LM labels (unshifted: labels[b][t] is the token at t, -100 where it is
 * not learned), so position t's logits are scored against the token at t + 1, and the fusion term uses the same
 * positions (the authors' shifted loss mask). Both terms are token means over the whole batch, as the authors'
 * model loss and their {@code (loss * mask).sum() / mask.sum()}.
 *
 * <p>The logits may be wider than the targets' vocabulary (a model with more embedding rows than
 * len(tokenizer)): the extra columns take part in the softmax and have target probability 0. A batch without a
 * supervised position has loss 0, N = 0 and gradient 0 (the authors' division would give NaN).
 *
 * <p>{@link #gradient} is the analytic derivative with respect to the logits, for a trainer or to check autograd:
 * <pre>
 *   dL/dz_btv = (m_bt / N) * ( lambda * (p_btv - [v == y_b,t+1]) + (1 - lambda) * (S_bt * p_btv - q_btv) ),
 *   S_bt = sum_v q_btv (1 for a normalised target)
 * </pre>
 */
public final class FuseChatObjective {

    /** Hugging Face's ignore index. */
    public static final int IGNORE_INDEX = -100;

    /**
     * @param total lambda * clm + (1 - lambda) * fuse
     * @param clm the language-modelling term (mean next-token NLL)
     * @param fuse the fusion term (mean CE or KL against the fused targets)
     * @param tokens N, the supervised positions
     */
    public record Loss(double total, double clm, double fuse, long tokens) {
    }

    private FuseChatObjective() {
    }

    /** One sequence: logits [T][V], labels [T], targets [T] (entries at unsupervised positions may be null). */
    public static Loss loss(float[][] logits, int[] labels, List<SparseDistribution> targets, double lambda,
                            FuseLossType type) {
        return loss(new float[][][] {logits}, new int[][] {labels}, List.of(nullable(targets)), lambda, type);
    }

    public static float[][] gradient(float[][] logits, int[] labels, List<SparseDistribution> targets, double lambda) {
        return gradient(new float[][][] {logits}, new int[][] {labels}, List.of(nullable(targets)), lambda)[0];
    }

    /** A batch: logits [B][T][V], labels [B][T], targets [B][T]. */
    public static Loss loss(float[][][] logits, int[][] labels, List<List<SparseDistribution>> targets, double lambda,
                            FuseLossType type) {
        long n = check(logits, labels, targets, lambda);
        if (n == 0) {
            return new Loss(0, 0, 0, 0);
        }
        double clm = 0;
        double fuse = 0;
        for (int b = 0; b < logits.length; b++) {
            for (int t = 0; t + 1 < labels[b].length; t++) {
                if (labels[b][t + 1] == IGNORE_INDEX) {
                    continue;
                }
                float[] z = logits[b][t];
                double lse = logSumExp(z);
                clm += lse - z[labels[b][t + 1]];
                SparseDistribution q = targets.get(b).get(t);
                for (int k = 0; k < q.size(); k++) {
                    double qv = q.prob(k);
                    double logp = z[q.id(k)] - lse;
                    fuse -= qv * logp;
                    if (type == FuseLossType.KL && qv > 0) {
                        fuse += qv * Math.log(qv);
                    }
                }
            }
        }
        clm /= n;
        fuse /= n;
        return new Loss(lambda * clm + (1 - lambda) * fuse, clm, fuse, n);
    }

    /** dL/dlogits of {@link #loss} (the same for CE and KL). */
    public static float[][][] gradient(float[][][] logits, int[][] labels, List<List<SparseDistribution>> targets,
                                       double lambda) {
        long n = check(logits, labels, targets, lambda);
        float[][][] grad = new float[logits.length][][];
        for (int b = 0; b < logits.length; b++) {
            grad[b] = new float[logits[b].length][];
            for (int t = 0; t < logits[b].length; t++) {
                float[] z = logits[b][t];
                float[] g = new float[z.length];
                grad[b][t] = g;
                if (t + 1 >= labels[b].length || labels[b][t + 1] == IGNORE_INDEX) {
                    continue;
                }
                double lse = logSumExp(z);
                SparseDistribution q = targets.get(b).get(t);
                double s = 0;
                for (int k = 0; k < q.size(); k++) {
                    s += q.prob(k);
                }
                double[] d = new double[z.length];
                for (int v = 0; v < z.length; v++) {
                    double p = Math.exp(z[v] - lse);
                    d[v] = lambda * p + (1 - lambda) * s * p;
                }
                d[labels[b][t + 1]] -= lambda;
                for (int k = 0; k < q.size(); k++) {
                    d[q.id(k)] -= (1 - lambda) * q.prob(k);
                }
                for (int v = 0; v < z.length; v++) {
                    g[v] = (float) (d[v] / n);
                }
            }
        }
        return grad;
    }

    private static long check(float[][][] logits, int[][] labels, List<List<SparseDistribution>> targets,
                              double lambda) {
        if (!(lambda >= 0 && lambda <= 1)) {
            throw new IllegalArgumentException("lambda must be in [0, 1], got " + lambda);
        }
        if (labels.length != logits.length || targets.size() != logits.length) {
            throw new IllegalArgumentException("batch sizes differ: logits " + logits.length + ", labels "
                    + labels.length + ", targets " + targets.size());
        }
        long n = 0;
        for (int b = 0; b < logits.length; b++) {
            if (labels[b].length != logits[b].length || targets.get(b).size() != logits[b].length) {
                throw new IllegalArgumentException("sequence " + b + ": logits have " + logits[b].length
                        + " positions, labels " + labels[b].length + ", targets " + targets.get(b).size());
            }
            for (int t = 0; t < logits[b].length; t++) {
                int width = logits[b][t].length;
                if (width == 0 || (t > 0 && width != logits[b][0].length)) {
                    throw new IllegalArgumentException("sequence " + b + " position " + t + ": logits have "
                            + width + " columns");
                }
                int label = labels[b][t];
                if (label != IGNORE_INDEX && (label < 0 || label >= width)) {
                    throw new IllegalArgumentException("sequence " + b + " position " + t + ": label " + label
                            + " is outside [0, " + width + ") and not " + IGNORE_INDEX);
                }
                if (t + 1 < logits[b].length && labels[b][t + 1] != IGNORE_INDEX) {
                    SparseDistribution q = targets.get(b).get(t);
                    if (q == null) {
                        throw new IllegalArgumentException("sequence " + b + " position " + t
                                + ": no target distribution at a supervised position");
                    }
                    if (q.id(q.size() - 1) >= width) {
                        throw new IllegalArgumentException("sequence " + b + " position " + t + ": target id "
                                + q.id(q.size() - 1) + " is outside the logits' " + width + " columns");
                    }
                    n++;
                }
            }
        }
        return n;
    }

    static double logSumExp(float[] z) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : z) {
            if (!Float.isFinite(v)) {
                throw new IllegalArgumentException("logit " + v + " is not finite");
            }
            max = Math.max(max, v);
        }
        double sum = 0;
        for (float v : z) {
            sum += Math.exp(v - max);
        }
        return max + Math.log(sum);
    }

    private static List<SparseDistribution> nullable(List<SparseDistribution> targets) {
        return java.util.Collections.unmodifiableList(new java.util.ArrayList<>(targets));
    }
}
