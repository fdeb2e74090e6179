package dev.amalgam.merge.method;

import dev.amalgam.merge.kernel.FloatSink;
import java.util.List;
import java.util.Optional;

/**
 * NearSwap: per element, takes the secondary model's value where it is close to the base
 * (weight t / max(|base - other|, 1e-6) clamped to [0, 1], as mergekit computes it), else keeps the base; t <= 0
 * gives the base.
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
        // t <= 0 is allowed, as in mergekit: every weight clamps to 0 and the result is the base
        return List.of(ParameterDef.requiredNumber("t", Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY));
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
            float w = t / Math.max(Math.abs(v0[i] - v1[i]), 1e-6f); // mergekit clamps |b - x| at 1e-6
            if (Float.isNaN(w) || Float.isInfinite(w)) {
                w = 1;
            }
            w = Math.max(0, Math.min(1, w));
            out[i] = w * v1[i] + (1 - w) * v0[i];
        }
        return out;
    }
}
