package dev.amalgam.fusion.fusechat.train;

import dev.amalgam.fusion.fusechat.FuseChatObjective;
import dev.amalgam.fusion.fusechat.SparseDistribution;
import java.util.Collections;
import java.util.List;

/**
 * One training sample of FuseChat stage 1 at the pivot's tokens: its ids, causal-LM labels and the fused target
 * distribution at every position whose next label is learned (null elsewhere).
 *
 * @param id the corpus sample id
 * @param inputIds pivot token ids
 * @param labels unshifted labels (-100 = not learned)
 * @param targets fused q_t per position t (it predicts token t + 1); null where labels[t + 1] is -100
 */
public record FuseChatExample(String id, int[] inputIds, int[] labels, List<SparseDistribution> targets) {

    public FuseChatExample {
        if (inputIds.length != labels.length || targets.size() != inputIds.length) {
            throw new IllegalArgumentException("sample " + id + ": " + inputIds.length + " ids, " + labels.length
                    + " labels, " + targets.size() + " targets");
        }
        targets = Collections.unmodifiableList(new java.util.ArrayList<>(targets));
    }

    /** N of the sample: positions t whose next label is learned. */
    public int supervisedPositions() {
        int n = 0;
        for (int t = 0; t + 1 < labels.length; t++) {
            if (labels[t + 1] != FuseChatObjective.IGNORE_INDEX) {
                n++;
            }
        }
        return n;
    }

    public int length() {
        return inputIds.length;
    }
}
