package dev.amalgam.merge.method;

import dev.amalgam.merge.kernel.FloatSink;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * Arcee Fusion: importance = |x - base| * KL(softmax(x) || softmax(base)) per row (last dimension); elements
 * whose importance reaches median + 1.5 * IQR take the other model's value, the rest keep the base.
 * Quantiles come from a sorted sample of at most 1,000,000 importances (seeded), as mergekit does.
 */
public final class ArceeFusionMerge implements MergeMethod {

    static final int QUANTILE_SAMPLE_SIZE = 1_000_000;
    private static final double EPS = 1e-8;

    @Override
    public String name() {
        return "arcee_fusion";
    }

    @Override
    public String reference() {
        return "https://arcee.ai";
    }

    @Override
    public BasePolicy basePolicy() {
        return BasePolicy.REQUIRED;
    }

    @Override
    public Optional<String> checkInputs(int nonBaseModels, boolean hasBase) {
        return nonBaseModels == 1 ? Optional.empty()
                : Optional.of("arcee_fusion merges exactly two models (base_model and one other), got base + "
                + nonBaseModels);
    }

    @Override
    public void merge(MergeInputs in, FloatSink out) {
        out.writeAll(arceeFusion(in));
    }

    private static float[] arceeFusion(MergeInputs in) {
        float[] base = in.base();
        float[] x = in.tensors().get(in.others().get(0));
        int n = base.length;
        int cols = in.shape().length < 2 ? n : in.columns();
        float[] importance = new float[n];
        for (int off = 0; off < n; off += cols) {
            double kl = rowKl(x, base, off, cols);
            for (int i = off; i < off + cols; i++) {
                importance[i] = (float) (Math.abs(x[i] - base[i]) * kl);
            }
        }
        float threshold = threshold(importance, new SplittableRandom(in.seed()));
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = importance[i] >= threshold ? x[i] : base[i];
        }
        return out;
    }

    /** sum p log(p / q) with p = softmax(x) + eps, q = softmax(base) + eps over one row. */
    private static double rowKl(float[] x, float[] base, int off, int len) {
        double maxX = Double.NEGATIVE_INFINITY;
        double maxB = Double.NEGATIVE_INFINITY;
        for (int i = off; i < off + len; i++) {
            maxX = Math.max(maxX, x[i]);
            maxB = Math.max(maxB, base[i]);
        }
        double zx = 0;
        double zb = 0;
        for (int i = off; i < off + len; i++) {
            zx += Math.exp(x[i] - maxX);
            zb += Math.exp(base[i] - maxB);
        }
        double kl = 0;
        for (int i = off; i < off + len; i++) {
            double p = Math.exp(x[i] - maxX) / zx + EPS;
            double q = Math.exp(base[i] - maxB) / zb + EPS;
            kl += p * Math.log(p / q);
        }
        return kl;
    }

    /** median + 1.5 * (q3 - q1), quantile index = floor(q * (m - 1)) of the sorted (sampled) values. */
    static float threshold(float[] importance, SplittableRandom rnd) {
        float[] sample;
        if (importance.length > QUANTILE_SAMPLE_SIZE) {
            sample = new float[QUANTILE_SAMPLE_SIZE];
            for (int i = 0; i < sample.length; i++) {
                sample[i] = importance[rnd.nextInt(importance.length)];
            }
        } else {
            sample = importance.clone();
        }
        Arrays.sort(sample);
        int last = sample.length - 1;
        float q1 = sample[(int) (0.25 * last)];
        float median = sample[(int) (0.5 * last)];
        float q3 = sample[(int) (0.75 * last)];
        return median + 1.5f * (q3 - q1);
    }
}
