package dev.amalgam.merge.method;

import dev.amalgam.merge.kernel.FloatSink;
import dev.amalgam.merge.kernel.VectorMath;
import java.util.List;
import java.util.Optional;

/**
 * NuSLERP: slerp of two models with t = w_2 / (w_1 + w_2) taken from per-model weights, optionally on task
 * vectors relative to a base, over the whole tensor ({@code nuslerp_flatten}, default), per row, or per
 * column ({@code nuslerp_row_wise}: vectors along the first dimension).
 */
public final class NuSlerpMerge implements MergeMethod {

    private static final double COLINEAR_EPS = 1e-8;
    private static final double NORM_EPS = 1e-7;

    @Override
    public String name() {
        return "nuslerp";
    }

    @Override
    public String reference() {
        return "https://github.com/arcee-ai/mergekit (NuSLERP)";
    }

    @Override
    public List<ParameterDef> parameters() {
        return List.of(ParameterDef.bool("nuslerp_row_wise", false), ParameterDef.bool("nuslerp_flatten", true));
    }

    @Override
    public List<ParameterDef> modelParameters() {
        return List.of(ParameterDef.requiredNumber("weight", Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY));
    }

    @Override
    public BasePolicy basePolicy() {
        return BasePolicy.OPTIONAL;
    }

    @Override
    public Optional<String> checkInputs(int nonBaseModels, boolean hasBase) {
        return nonBaseModels == 2 ? Optional.empty()
                : Optional.of("nuslerp merges exactly two models (plus an optional base_model that is not one of them), got "
                + nonBaseModels);
    }

    @Override
    public void merge(MergeInputs in, FloatSink out) {
        out.writeAll(nuSlerp(in));
    }

    private static float[] nuSlerp(MergeInputs in) {
        List<Integer> others = in.others();
        int a = others.get(0);
        int b = others.get(1);
        double w0 = in.modelParams().get(a).number("weight");
        double w1 = in.modelParams().get(b).number("weight");
        double t = Math.abs(w0 + w1) < 1e-6 ? 0.5 : w1 / (w0 + w1);
        float[] v0 = in.tensors().get(a);
        float[] v1 = in.tensors().get(b);
        float[] base = in.hasBase() ? in.base() : null;
        if (base != null) {
            v0 = VectorMath.subtract(v0, base);
            v1 = VectorMath.subtract(v1, base);
        }
        int n = v0.length;
        int count;
        int len;
        int stride;
        if (in.params().bool("nuslerp_flatten") || in.shape().length < 2) {
            count = 1;
            len = n;
            stride = 1;
        } else if (in.params().bool("nuslerp_row_wise")) {
            len = (int) in.shape()[0]; // vectors run along the first dimension
            count = n / len;
            stride = count;
        } else {
            len = in.columns(); // one vector per row
            count = n / len;
            stride = 1;
        }
        float[] out = new float[n];
        for (int k = 0; k < count; k++) {
            int start = stride == 1 ? k * len : k;
            slerpStrided(t, v0, v1, out, start, len, stride);
        }
        if (base != null) {
            for (int i = 0; i < n; i++) {
                out[i] += base[i];
            }
        }
        return out;
    }

    private static void slerpStrided(double t, float[] v0, float[] v1, float[] out, int start, int len, int stride) {
        double d = 0;
        double n0 = 0;
        double n1 = 0;
        for (int j = 0, i = start; j < len; j++, i += stride) {
            d += (double) v0[i] * v1[i];
            n0 += (double) v0[i] * v0[i];
            n1 += (double) v1[i] * v1[i];
        }
        double cos = d / (Math.max(Math.sqrt(n0), NORM_EPS) * Math.max(Math.sqrt(n1), NORM_EPS));
        double theta = Math.acos(Math.max(-1, Math.min(1, cos)));
        double sin = Math.sin(theta);
        double s0;
        double s1;
        if (Math.abs(sin) < COLINEAR_EPS) {
            s0 = 1 - t;
            s1 = t;
        } else {
            s0 = Math.sin((1 - t) * theta) / sin;
            s1 = Math.sin(t * theta) / sin;
        }
        float f0 = (float) s0;
        float f1 = (float) s1;
        for (int j = 0, i = start; j < len; j++, i += stride) {
            out[i] = f0 * v0[i] + f1 * v1[i];
        }
    }
}
