package dev.amalgam.fusion.fusechat;

import dev.amalgam.fusion.fusechat.align.TopK;

import java.util.ArrayList;
import java.util.List;

/**
 * Step 3 of FuseChat: the per-position target distributions q = softmax(topk_logits / T) of one candidate, as
 * the authors' data collator builds them (T = {@code fuse_temperature}, 1.0 in their recipes).
 */
public final class TargetDistributions {

    private TargetDistributions() {
    }

    /** The pivot's own top-k at each of its positions (none may be empty). */
    public static List<SparseDistribution> of(List<TopK> topK, double temperature) {
        List<SparseDistribution> out = new ArrayList<>(topK.size());
        for (int t = 0; t < topK.size(); t++) {
            if (topK.get(t).size() == 0) {
                throw new IllegalArgumentException("top-k at position " + t + " is empty");
            }
            out.add(SparseDistribution.softmax(topK.get(t), temperature));
        }
        return out;
    }

    /**
     * An aligned source's top-k at the pivot's positions; where it is empty, the pivot's own distribution at
     * that position stands in (the authors' "bad case" rule).
     */
    public static List<SparseDistribution> ofAligned(List<TopK> aligned, List<SparseDistribution> pivotOwn,
                                                     double temperature) {
        if (aligned.size() != pivotOwn.size()) {
            throw new IllegalArgumentException("aligned top-k has " + aligned.size() + " positions, the pivot's "
                    + pivotOwn.size());
        }
        List<SparseDistribution> out = new ArrayList<>(aligned.size());
        for (int t = 0; t < aligned.size(); t++) {
            TopK k = aligned.get(t);
            out.add(k.size() == 0 ? pivotOwn.get(t) : SparseDistribution.softmax(k, temperature));
        }
        return out;
    }
}
