package dev.amalgam.merge.method;

import java.util.List;

/** Linear (weighted average, "model soups"): {@code sum w_i x_i / sum w_i}. */
public final class LinearMerge implements MergeMethod {

    @Override
    public String name() {
        return "linear";
    }

    @Override
    public String reference() {
        return "https://arxiv.org/abs/2203.05482";
    }

    @Override
    public List<ParameterDef> parameters() {
        return List.of(ParameterDef.bool("normalize", true));
    }

    @Override
    public List<ParameterDef> modelParameters() {
        return List.of(ParameterDef.requiredNumber("weight", Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY));
    }

    @Override
    public BasePolicy basePolicy() {
        return BasePolicy.IGNORED;
    }

    @Override
    public float[] merge(MergeInputs in) {
        int n = in.length();
        int k = in.tensors().size();
        float[] w = new float[k];
        double wsum = 0;
        for (int m = 0; m < k; m++) {
            double wd = in.modelParams().get(m).number("weight");
            wsum += wd;
            w[m] = (float) wd;
        }
        boolean normalize = in.params().bool("normalize");
        if (normalize && wsum == 0) {
            throw new IllegalArgumentException("linear merge of " + in.tensorName()
                    + ": weights sum to 0, cannot normalize (set normalize: false)");
        }
        float div = normalize ? (float) wsum : 1f;
        float[] first = in.tensors().get(0);
        float[] out = in.scratch(0); // FP32 accumulator; with owned inputs the first input's array
        Chunks.forEach(n, (c, from, to) -> {
            float w0 = w[0];
            for (int i = from; i < to; i++) {
                out[i] = w0 * first[i];
            }
            for (int m = 1; m < k; m++) {
                float[] x = in.tensors().get(m);
                float wm = w[m];
                for (int i = from; i < to; i++) {
                    out[i] += wm * x[i];
                }
            }
            for (int i = from; i < to; i++) {
                out[i] /= div;
            }
        });
        return out;
    }
}
