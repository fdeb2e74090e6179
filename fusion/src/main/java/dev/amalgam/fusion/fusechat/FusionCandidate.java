package dev.amalgam.fusion.fusechat;

import java.util.List;

/**
 * One candidate teacher for a sample, at the pivot's positions: the pivot itself (FuseChat's
 * {@code fuse_with_ref_model}) or an aligned source. Its quality is its cross-entropy against the gold labels,
 * per sequence ({@code metric_ce}, the mean next-token CE over supervised positions) and optionally per position
 * (the CE at position t of predicting token t + 1; positions without a supervised next token may hold any finite
 * value, they are masked out of the loss).
 *
 * @param name for error messages ("pivot", a source's name)
 * @param distributions the candidate's distribution at each pivot position
 * @param sequenceCe metric_ce of the sample (finite; the authors drop samples whose metric is NaN)
 * @param tokenCe per-position CE, same length as {@code distributions}, or null when only the sequence metric is known
 */
public record FusionCandidate(String name, List<SparseDistribution> distributions, double sequenceCe, double[] tokenCe) {

    public FusionCandidate {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("candidate name must not be blank");
        }
        distributions = List.copyOf(distributions);
        if (!Double.isFinite(sequenceCe)) {
            throw new IllegalArgumentException("candidate " + name + ": sequence metric_ce is " + sequenceCe
                    + " (drop such samples before fusion, as the authors' filter_nan step does)");
        }
        if (tokenCe != null) {
            if (tokenCe.length != distributions.size()) {
                throw new IllegalArgumentException("candidate " + name + ": " + tokenCe.length
                        + " per-token metrics for " + distributions.size() + " positions");
            }
            for (int t = 0; t < tokenCe.length; t++) {
                if (!Double.isFinite(tokenCe[t])) {
                    throw new IllegalArgumentException("candidate " + name + ": per-token metric at position " + t
                            + " is " + tokenCe[t]);
                }
            }
            tokenCe = tokenCe.clone();
        }
    }

    public FusionCandidate(String name, List<SparseDistribution> distributions, double sequenceCe) {
        this(name, distributions, sequenceCe, null);
    }

    @Override
    public double[] tokenCe() {
        return tokenCe == null ? null : tokenCe.clone();
    }

    double tokenCe(int t) {
        return tokenCe[t];
    }

    boolean hasTokenCe() {
        return tokenCe != null;
    }

    public int length() {
        return distributions.size();
    }
}
