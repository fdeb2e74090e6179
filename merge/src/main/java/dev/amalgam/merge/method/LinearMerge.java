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
        float[] out = new float[n]; // FP32 accumulator, one output-sized buffer
        double wsum = 0;
        for (int m = 0; m < in.tensors().size(); m++) {
            double wd = in.modelParams().get(m).number("weight");
            wsum += wd;
            float w = (float) wd;
            float[] x = in.tensors().get(m);
            for (int i = 0; i < n; i++) {
                out[i] += w * x[i];
            }
        }
        if (in.params().bool("normalize")) {
            if (wsum == 0) {
                throw new IllegalArgumentException("linear merge of " + in.tensorName()
                        + ": weights sum to 0, cannot normalize (set normalize: false)");
            }
            float div = (float) wsum;
            for (int i = 0; i < n; i++) {
                out[i] /= div;
            }
        }
        return out;
    }
}
