package dev.amalgam.merge.method;

import dev.amalgam.merge.kernel.FloatSink;
import java.util.List;
import java.util.Optional;

/**
 * NearSwap: per element, takes the secondary model's value where it is close to the base
 * (weight t / |base - other| clamped to [0, 1]; equal values count as weight 1), else keeps the base.
 */
public final class NearSwapMerge implements MergeMethod {

    @Override
    public String name() {
        return "nearswap";
    }

    @Override
    public String reference() {
        return "https://huggingface.co/alchemonaut/QuartetAnemoi-70B-t0.0001";
    }

    @Override
    public List<ParameterDef> parameters() {
        return List.of(ParameterDef.requiredNumber("t", Double.MIN_VALUE, Double.POSITIVE_INFINITY));
    }

    @Override
    public BasePolicy basePolicy() {
        return BasePolicy.REQUIRED;
    }

    @Override
    public Optional<String> checkInputs(int nonBaseModels, boolean hasBase) {
        return nonBaseModels == 1 ? Optional.empty()
                : Optional.of("nearswap merges exactly two models (base_model and one other), got base + " + nonBaseModels);
    }

    @Override
    public void merge(MergeInputs in, FloatSink out) {
        out.writeAll(nearSwap(in));
    }

    private static float[] nearSwap(MergeInputs in) {
        float[] v0 = in.base();
        float[] v1 = in.tensors().get(in.others().get(0));
        float t = (float) in.params().number("t");
        float[] out = new float[v0.length];
        for (int i = 0; i < out.length; i++) {
            float w = t / Math.abs(v0[i] - v1[i]);
            if (Float.isNaN(w) || Float.isInfinite(w)) {
                w = 1;
            }
            w = Math.max(0, Math.min(1, w));
            out[i] = w * v1[i] + (1 - w) * v0[i];
        }
        return out;
    }
}
