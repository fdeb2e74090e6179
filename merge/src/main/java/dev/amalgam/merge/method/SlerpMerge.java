package dev.amalgam.merge.method;

import dev.amalgam.merge.kernel.FloatSink;
import dev.amalgam.merge.kernel.VectorMath;
import java.util.List;
import java.util.Optional;

/**
 * Spherical linear interpolation between the base model (t = 0) and one other model (t = 1), on the whole
 * flattened tensor; falls back to linear interpolation when the directions are nearly colinear.
 */
public final class SlerpMerge implements MergeMethod {

    /** |cos| above this counts as colinear (mergekit's DOT_THRESHOLD). */
    static final double DOT_THRESHOLD = 0.9995;
    private static final double EPS = 1e-8;

    @Override
    public String name() {
        return "slerp";
    }

    @Override
    public String reference() {
        return "https://en.wikipedia.org/wiki/Slerp";
    }

    @Override
    public List<ParameterDef> parameters() {
        return List.of(ParameterDef.requiredNumber("t", Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY));
    }

    @Override
    public BasePolicy basePolicy() {
        return BasePolicy.REQUIRED;
    }

    @Override
    public Optional<String> checkInputs(int nonBaseModels, boolean hasBase) {
        return nonBaseModels == 1 ? Optional.empty()
                : Optional.of("slerp merges exactly two models (base_model and one other), got base + " + nonBaseModels);
    }

    @Override
    public void merge(MergeInputs in, FloatSink out) {
        float[] v0 = in.base();
        float[] v1 = in.tensors().get(in.others().get(0));
        out.writeAll(slerp(in.params().number("t"), v0, v1));
    }

    /** Slerp of two whole vectors; the result scales the ORIGINAL vectors, only the angle uses unit ones. */
    static float[] slerp(double t, float[] v0, float[] v1) {
        double n0 = VectorMath.norm(v0);
        double n1 = VectorMath.norm(v1);
        // normalise only when the norm is not tiny, like mergekit
        double dot = VectorMath.dot(v0, v1) / ((n0 > EPS ? n0 : 1) * (n1 > EPS ? n1 : 1));
        double s0;
        double s1;
        if (Math.abs(dot) > DOT_THRESHOLD) {
            s0 = 1 - t;
            s1 = t;
        } else {
            double theta0 = Math.acos(dot);
            double sinTheta0 = Math.sin(theta0);
            double thetaT = theta0 * t;
            s0 = Math.sin(theta0 - thetaT) / sinTheta0;
            s1 = Math.sin(thetaT) / sinTheta0;
        }
        float[] out = new float[v0.length];
        float f0 = (float) s0;
        float f1 = (float) s1;
        for (int i = 0; i < out.length; i++) {
            out[i] = f0 * v0[i] + f1 * v1[i];
        }
        return out;
    }
}
