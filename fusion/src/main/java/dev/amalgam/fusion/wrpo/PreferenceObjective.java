package dev.amalgam.fusion.wrpo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.amalgam.fusion.data.TokenizedPreference;
import dev.amalgam.fusion.loss.AlphaSchedule;
import dev.amalgam.fusion.loss.LossOutput;
import dev.amalgam.fusion.loss.LossType;
import dev.amalgam.fusion.loss.PreferenceLosses;
import dev.amalgam.fusion.loss.PreferenceLosses.BaselineChosen;
import dev.amalgam.fusion.loss.SequenceLogps;
import dev.amalgam.fusion.train.MicroObjective;
import dev.amalgam.modelengine.BlockMask;
import dev.amalgam.modelengine.LlamaModel;
import dev.amalgam.modelengine.LogProbs;
import dev.amalgam.modelengine.OwnedArrays;
import java.util.ArrayList;
import java.util.List;

/**
 * The preference-stage objective of one micro-batch: the three responses of every record run in one right-padded
 * forward (3 x batch sequences, as TRL's concatenated forward), the chosen loss of {@link PreferenceLosses} against
 * the cached reference log-probs, and the per-example rewards collected into {@link PreferenceMetrics}.
 */
public final class PreferenceObjective implements MicroObjective<int[]> {

    private final List<TokenizedPreference> records;
    private final ReferenceLogps reference;
    private final LossType loss;
    private final double beta;
    private final double gamma;
    private final double labelSmoothing;
    private final BaselineChosen baselineChosen;
    private final PreferenceMetrics metrics;
    private double alpha;
    private int stepExamples = 1;

    /**
     * @param reference cached reference log-probs of {@code records} (null only for simpo)
     * @param labelSmoothing TRL's label smoothing of the sigmoid losses, in [0, 0.5) (0 for ipo)
     */
    public PreferenceObjective(List<TokenizedPreference> records, ReferenceLogps reference, LossType loss, double beta,
            double gamma, double labelSmoothing, BaselineChosen baselineChosen, PreferenceMetrics metrics) {
        if (reference == null && loss.needsReference()) {
            throw new IllegalArgumentException(loss.id() + " needs reference log-probs");
        }
        this.records = records;
        this.reference = reference;
        this.loss = loss;
        this.beta = beta;
        this.gamma = gamma;
        this.labelSmoothing = labelSmoothing;
        this.baselineChosen = baselineChosen;
        this.metrics = metrics;
    }

    /** Sets the alpha and the number of examples of the coming optimizer step. */
    public void prepare(double alpha, int stepExamples) {
        this.alpha = alpha;
        this.stepExamples = stepExamples;
    }

    public static double alphaAt(AlphaSchedule schedule, long step) {
        return schedule.alpha(step);
    }

    @Override
    public NDArray loss(LlamaModel model, int[] indices, NDManager scope) {
        List<TokenizedPreference> batch = new ArrayList<>();
        for (int i : indices) {
            batch.add(records.get(i));
        }
        int b = batch.size();
        float[] meanLogits = metrics == null ? null : new float[3 * b];
        NDArray all = forward(model, batch, scope, meanLogits); // [3b]: source-chosen, target-chosen, rejected
        SequenceLogps policy = new SequenceLogps(all.get("0:" + b), all.get(b + ":" + 2 * b), all.get(2 * b + ":"));
        float[][] ref = new float[3][b];
        float[][] len = new float[3][b];
        for (int i = 0; i < b; i++) {
            TokenizedPreference r = batch.get(i);
            int[][] responses = r.responses();
            for (int k = 0; k < 3; k++) {
                ref[k][i] = reference == null ? 0 : reference.logps()[indices[i]][k];
                len[k][i] = Math.max(1, responses[k].length);
            }
        }
        SequenceLogps refLogps = new SequenceLogps(scope.create(ref[0]), scope.create(ref[1]), scope.create(ref[2]));
        SequenceLogps lengths = new SequenceLogps(scope.create(len[0]), scope.create(len[1]), scope.create(len[2]));
        LossOutput out = PreferenceLosses.compute(loss, policy, loss.needsReference() ? refLogps : null, lengths, alpha,
                beta, gamma, labelSmoothing, baselineChosen);
        if (metrics != null) {
            metrics.add(out, policy, meanLogits);
        }
        return OwnedArrays.div(out.losses().sum(), stepExamples); // div keeps its divisor for backward
    }

    /** Summed response log-probs [3 x batch] of a batch's source-chosen, then target-chosen, then rejected. */
    static NDArray policyLogps(LlamaModel model, List<TokenizedPreference> batch, NDManager scope) {
        return forward(model, batch, scope, null);
    }

    /**
     * One right-padded forward of the batch's 3 x batch (prompt, response) sequences; returns the summed response
     * log-probs [3 x batch] and, when {@code meanLogits} is given, fills it with each sequence's mean logit over its
     * response positions and the vocabulary (the reference's {@code logits/*} metrics).
     */
    static NDArray forward(LlamaModel model, List<TokenizedPreference> batch, NDManager scope, float[] meanLogits) {
        List<int[]> prompts = new ArrayList<>();
        List<int[]> responses = new ArrayList<>();
        for (int k = 0; k < 3; k++) {
            for (TokenizedPreference r : batch) {
                prompts.add(r.prompt());
                responses.add(r.responses()[k]);
            }
        }
        int n = prompts.size();
        int len = 0;
        for (int i = 0; i < n; i++) {
            len = Math.max(len, prompts.get(i).length + responses.get(i).length);
        }
        long[][] ids = new long[n][len];
        long[][] mask = new long[n][len];
        float[][] weight = new float[n][len - 1]; // 1 where the target t + 1 is a response token
        for (int i = 0; i < n; i++) {
            int[] p = prompts.get(i);
            int[] r = responses.get(i);
            for (int t = 0; t < p.length + r.length; t++) {
                ids[i][t] = t < p.length ? p[t] : r[t - p.length];
                mask[i][t] = 1;
            }
            for (int t = p.length - 1; t < p.length + r.length - 1; t++) {
                weight[i][t] = 1;
            }
        }
        NDArray idArray = scope.create(ids);
        NDArray logits = model.logits(idArray, scope.create(mask), BlockMask.none()); // [n, len, vocab]
        NDArray w = scope.create(weight); // [n, len - 1]
        NDArray sums = LogProbs.fromLogits(logits, idArray).mul(w).sum(new int[] {1}); // [n]
        if (meanLogits != null) {
            try (NDManager m = scope.newSubManager()) {
                // Mean over the vocabulary at each predicting position [n, len - 1], then over response positions.
                NDArray perPosition = logits.get(":, :-1, :").stopGradient().mean(new int[] {2});
                perPosition.attach(m);
                float[] total = perPosition.mul(w).sum(new int[] {1}).toFloatArray();
                for (int i = 0; i < n; i++) {
                    meanLogits[i] = total[i] / Math.max(1, responses.get(i).length);
                }
            }
        }
        return sums;
    }
}
