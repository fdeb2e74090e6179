package dev.amalgam.fusion.wrpo;

import ai.djl.ndarray.NDManager;
import dev.amalgam.fusion.data.TokenizedPreference;
import dev.amalgam.fusion.loss.LossType;
import dev.amalgam.fusion.loss.PreferenceLosses.BaselineChosen;
import dev.amalgam.fusion.train.TrainableModel;
import dev.amalgam.modelengine.LlamaModel;
import java.util.List;
import java.util.Map;

/** Preference metrics of the current model on held-out records, without gradients, named {@code eval_...}. */
public final class PreferenceEvaluation {

    private PreferenceEvaluation() {
    }

    public static Map<String, Double> evaluate(TrainableModel model, List<TokenizedPreference> records,
            ReferenceLogps reference, LossType loss, double alpha, double beta, double gamma, double labelSmoothing,
            BaselineChosen chosen, int batchSize) {
        PreferenceMetrics metrics = new PreferenceMetrics();
        PreferenceObjective objective = new PreferenceObjective(records, reference, loss, beta, gamma, labelSmoothing,
                chosen, metrics);
        objective.prepare(alpha, records.size());
        for (int from = 0; from < records.size(); from += batchSize) {
            int[] idx = new int[Math.min(batchSize, records.size() - from)];
            for (int i = 0; i < idx.length; i++) {
                idx[i] = from + i;
            }
            try (NDManager scope = model.base().manager().newSubManager()) {
                LlamaModel forward = model.forwardModel(scope);
                try {
                    objective.loss(forward, idx, scope);
                } finally {
                    model.release(forward);
                }
            }
        }
        return metrics.means("eval_");
    }
}
