package dev.amalgam.fusion.wrpo;

import dev.amalgam.fusion.loss.LossOutput;
import dev.amalgam.fusion.loss.SequenceLogps;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Per-example sums of the reference's logged quantities over one optimizer step (or one evaluation pass), reported
 * as means under TRL-style names. Accuracies are computed per example (the reference's "pivot accuracy" broadcasting
 * bug is not reproduced).
 */
public final class PreferenceMetrics {

    private final Map<String, Double> sums = new LinkedHashMap<>();
    private long count;

    /** Adds a micro-batch's per-example values (read out of the graph). */
    public void add(LossOutput out, SequenceLogps policy, float[] meanLogits) {
        float[] loss = out.losses().toFloatArray();
        float[] chosen = out.chosenRewards().toFloatArray();
        float[] source = out.sourceChosenRewards().toFloatArray();
        float[] target = out.targetChosenRewards().toFloatArray();
        float[] rejected = out.rejectedRewards().toFloatArray();
        float[] lpSource = policy.sourceChosen().toFloatArray();
        float[] lpTarget = policy.targetChosen().toFloatArray();
        float[] lpRejected = policy.rejected().toFloatArray();
        for (int i = 0; i < loss.length; i++) {
            sum("loss", loss[i]);
            sum("rewards/chosen", chosen[i]);
            sum("rewards/source_chosen", source[i]);
            sum("rewards/target_chosen", target[i]);
            sum("rewards/rejected", rejected[i]);
            sum("rewards/margins", chosen[i] - rejected[i]);
            sum("rewards/source_margins", source[i] - rejected[i]);
            sum("rewards/target_margins", target[i] - rejected[i]);
            sum("rewards/accuracies", chosen[i] > rejected[i] ? 1 : 0);
            sum("rewards/source_accuracies", source[i] > rejected[i] ? 1 : 0);
            sum("rewards/target_accuracies", target[i] > rejected[i] ? 1 : 0);
            sum("logps/source_chosen", lpSource[i]);
            sum("logps/target_chosen", lpTarget[i]);
            sum("logps/rejected", lpRejected[i]);
            if (meanLogits != null) { // [source-chosen..., target-chosen..., rejected...]
                sum("logits/source_chosen", meanLogits[i]);
                sum("logits/target_chosen", meanLogits[loss.length + i]);
                sum("logits/rejected", meanLogits[2 * loss.length + i]);
            }
        }
        count += loss.length;
    }

    private void sum(String name, double v) {
        sums.merge(name, v, Double::sum);
    }

    /** Means over the examples added since the last reset, names prefixed with {@code prefix}. */
    public Map<String, Double> means(String prefix) {
        Map<String, Double> out = new LinkedHashMap<>();
        sums.forEach((k, v) -> out.put(prefix + k, v / Math.max(1, count)));
        return out;
    }

    public void reset() {
        sums.clear();
        count = 0;
    }
}
