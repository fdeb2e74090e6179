package dev.amalgam.merge.method;

import dev.amalgam.merge.kernel.FloatSink;
import dev.amalgam.merge.kernel.VectorMath;
import java.util.List;

/**
 * Multi-SLERP: barycentric interpolation of several models on the hypersphere (tangent space at the weighted
 * mean direction, exponential map back), rescaled to the weighted mean norm; task vectors when a base is given.
 */
public final class MultiSlerpMerge implements MergeMethod {

    @Override
    public String name() {
        return "multislerp";
    }

    @Override
    public String reference() {
        return "https://goddard.blog/posts/multislerp-wow-what-a-cool-idea";
    }

    @Override
    public List<ParameterDef> parameters() {
        return List.of(ParameterDef.bool("normalize_weights", true),
                ParameterDef.number("eps", 1e-8, 0, 1));
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
    public void merge(MergeInputs in, FloatSink out) {
        out.writeAll(multiSlerp(in));
    }

    private static float[] multiSlerp(MergeInputs in) {
        List<Integer> idx = in.others();
        int k = idx.size();
        if (k == 1) {
            return in.tensors().get(idx.get(0)).clone();
        }
        int n = in.length();
        double eps = in.params().number("eps");
        float[] base = in.hasBase() ? in.base() : null;
        double[] w = new double[k];
        double wsum = 0;
        for (int j = 0; j < k; j++) {
            w[j] = in.modelParams().get(idx.get(j)).number("weight");
            wsum += w[j];
        }
        if (in.params().bool("normalize_weights")) {
            for (int j = 0; j < k; j++) {
                w[j] /= wsum;
            }
        }
        float[][] v = new float[k][];
        double[] norms = new double[k];
        for (int j = 0; j < k; j++) {
            float[] x = in.tensors().get(idx.get(j));
            v[j] = base == null ? x : VectorMath.subtract(x, base);
            norms[j] = VectorMath.norm(v[j]);
        }
        // weighted mean of the unit vectors
        double[] unitScale = new double[k];
        for (int j = 0; j < k; j++) {
            unitScale[j] = 1.0 / (norms[j] + eps);
        }
        float[] mean = new float[n];
        for (int j = 0; j < k; j++) {
            float c = (float) (w[j] * unitScale[j]);
            for (int i = 0; i < n; i++) {
                mean[i] += c * v[j][i];
            }
        }
        double meanNorm = VectorMath.norm(mean);
        if (meanNorm < eps) {
            if (k == 2) {
                float[] out = new float[n];
                for (int i = 0; i < n; i++) {
                    out[i] = (float) (v[0][i] * w[0] + v[1][i] * w[1]) + (base == null ? 0 : base[i]);
                }
                return out;
            }
            throw new IllegalArgumentException("multislerp of " + in.tensorName()
                    + ": the weighted sum of the inputs is zero (antipodal inputs with balancing weights)");
        }
        float invMean = (float) (1.0 / meanNorm);
        for (int i = 0; i < n; i++) {
            mean[i] *= invMean;
        }
        // tangent vectors u_j - <u_j, mean> mean, combined with the weights
        float[] tangent = new float[n];
        for (int j = 0; j < k; j++) {
            double dotj = VectorMath.dot(v[j], mean) * unitScale[j];
            float cu = (float) (w[j] * unitScale[j]);
            float cm = (float) (w[j] * dotj);
            for (int i = 0; i < n; i++) {
                tangent[i] += cu * v[j][i] - cm * mean[i];
            }
        }
        double tNorm = VectorMath.norm(tangent) + eps;
        double avgNorm = 0;
        for (int j = 0; j < k; j++) {
            avgNorm += norms[j] * w[j];
        }
        float a = (float) (Math.cos(tNorm) * avgNorm);
        float b = (float) (Math.sin(tNorm) / tNorm * avgNorm);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = a * mean[i] + b * tangent[i] + (base == null ? 0 : base[i]);
        }
        return out;
    }
}
