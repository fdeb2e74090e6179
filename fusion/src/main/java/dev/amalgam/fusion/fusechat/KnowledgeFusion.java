package dev.amalgam.fusion.fusechat;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * Step 4 of FuseChat: one target distribution per pivot position from the candidates (the pivot's own when
 * {@code fuse_with_ref_model} is set, then the aligned sources). Each candidate k has a reward
 * r_k = exp(-CE_k) computed from its metric at the chosen {@link MetricLevel}.
 *
 * <ul>
 *   <li>{@link FusionFunction#MIN_CE}: the distribution of the candidate with the largest reward (lowest CE);
 *       the first candidate in the list on ties, as {@code torch.argmax}.</li>
 *   <li>{@link FusionFunction#AVG_CE}: sum_k w_k q_k with w = softmax(r) (a softmax of the rewards, not of the
 *       negative CEs, as the authors' code).</li>
 * </ul>
 *
 * <p>Rewards are compared in double precision; the authors round them to BF16 first, which can tie close
 * candidates that are distinct here.
 */
public final class KnowledgeFusion {

    private KnowledgeFusion() {
    }

    public static List<SparseDistribution> fuse(List<FusionCandidate> candidates, FusionFunction function,
                                                MetricLevel level) {
        if (candidates.isEmpty()) {
            throw new IllegalArgumentException("fusion needs at least one candidate");
        }
        int length = candidates.get(0).length();
        for (FusionCandidate c : candidates) {
            if (c.length() != length) {
                throw new IllegalArgumentException("candidate " + c.name() + " has " + c.length()
                        + " positions, candidate " + candidates.get(0).name() + " " + length);
            }
            if (level == MetricLevel.TOKEN && !c.hasTokenCe()) {
                throw new IllegalArgumentException("candidate " + c.name() + " has no per-token metric for "
                        + "token-level fusion");
            }
        }
        List<SparseDistribution> out = new ArrayList<>(length);
        double[] ce = new double[candidates.size()];
        for (int t = 0; t < length; t++) {
            for (int k = 0; k < ce.length; k++) {
                FusionCandidate c = candidates.get(k);
                ce[k] = level == MetricLevel.SEQUENCE ? c.sequenceCe() : c.tokenCe(t);
            }
            if (function == FusionFunction.MIN_CE) {
                out.add(candidates.get(minCeIndex(ce)).distributions().get(t));
            } else {
                out.add(mix(candidates, t, avgCeWeights(ce)));
            }
        }
        return out;
    }

    /** MinCE's choice: the index of the lowest CE (largest reward exp(-CE)), the first on ties. */
    public static int minCeIndex(double[] ce) {
        int best = 0;
        for (int k = 1; k < ce.length; k++) {
            if (Math.exp(-ce[k]) > Math.exp(-ce[best])) {
                best = k;
            }
        }
        return best;
    }

    /** AvgCE's weights: softmax over the rewards r_k = exp(-CE_k). */
    public static double[] avgCeWeights(double[] ce) {
        double[] w = new double[ce.length];
        double max = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < ce.length; k++) {
            w[k] = Math.exp(-ce[k]);
            max = Math.max(max, w[k]);
        }
        double sum = 0;
        for (int k = 0; k < w.length; k++) {
            w[k] = Math.exp(w[k] - max);
            sum += w[k];
        }
        for (int k = 0; k < w.length; k++) {
            w[k] /= sum;
        }
        return w;
    }

    private static SparseDistribution mix(List<FusionCandidate> candidates, int t, double[] w) {
        TreeMap<Integer, Double> mixed = new TreeMap<>();
        for (int k = 0; k < w.length; k++) {
            SparseDistribution q = candidates.get(k).distributions().get(t);
            for (int e = 0; e < q.size(); e++) {
                mixed.merge(q.id(e), w[k] * q.prob(e), Double::sum);
            }
        }
        int[] ids = new int[mixed.size()];
        double[] probs = new double[mixed.size()];
        int e = 0;
        for (var entry : mixed.entrySet()) {
            ids[e] = entry.getKey();
            probs[e] = Math.min(1.0, entry.getValue()); // rounding can pass 1 by an ulp
            e++;
        }
        return new SparseDistribution(ids, probs);
    }
}
