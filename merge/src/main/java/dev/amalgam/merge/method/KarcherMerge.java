package dev.amalgam.merge.method;

import dev.amalgam.merge.kernel.FloatSink;
import dev.amalgam.merge.kernel.VectorMath;
import java.util.ArrayList;
import java.util.List;

/**
 * Karcher (Riemannian) mean of the models' directions on the unit hypersphere, equal weights, rescaled by the
 * mean norm; iterates until the tangent step is below {@code tol} or {@code max_iter} steps.
 */
public final class KarcherMerge implements MergeMethod {

    @Override
    public String name() {
        return "karcher";
    }

    @Override
    public String reference() {
        return "https://en.wikipedia.org/wiki/Karcher_mean";
    }

    @Override
    public List<ParameterDef> parameters() {
        return List.of(ParameterDef.number("max_iter", 10, 0, 10_000), ParameterDef.number("tol", 1e-5, 0, 1));
    }

    @Override
    public BasePolicy basePolicy() {
        return BasePolicy.IGNORED;
    }

    @Override
    public void merge(MergeInputs in, FloatSink out) {
        out.writeAll(karcherMean(in));
    }

    private static float[] karcherMean(MergeInputs in) {
        List<float[]> xs = in.tensors();
        int k = xs.size();
        if (k == 1) {
            return xs.get(0).clone();
        }
        int n = in.length();
        int maxIter = (int) in.params().number("max_iter");
        double tol = in.params().number("tol");
        double alpha = 1.0 / k;
        double[] norms = new double[k];
        List<float[]> units = new ArrayList<>();
        for (int j = 0; j < k; j++) {
            norms[j] = VectorMath.norm(xs.get(j));
            if (norms[j] > tol) {
                float inv = (float) (1.0 / norms[j]);
                float[] u = new float[n];
                for (int i = 0; i < n; i++) {
                    u[i] = xs.get(j)[i] * inv;
                }
                units.add(u);
            }
        }
        if (units.isEmpty()) {
            return new float[n];
        }
        double a = 1.0 / units.size(); // weights renormalised over the non-zero inputs
        float[] mean = new float[n];
        for (float[] u : units) {
            for (int i = 0; i < n; i++) {
                mean[i] += (float) a * u[i];
            }
        }
        double meanNorm = VectorMath.norm(mean);
        if (meanNorm < tol) {
            mean = units.get(0).clone();
        } else {
            scale(mean, 1.0 / meanNorm);
        }
        for (int iter = 0; iter < maxIter; iter++) {
            float[] tangent = new float[n];
            for (float[] u : units) {
                double dot = Math.max(-1, Math.min(1, VectorMath.dot(mean, u)));
                double theta = Math.acos(dot);
                if (theta < tol) {
                    continue;
                }
                float c = (float) (a * theta / Math.sin(theta));
                float cd = (float) (a * theta / Math.sin(theta) * dot);
                for (int i = 0; i < n; i++) {
                    tangent[i] += c * u[i] - cd * mean[i];
                }
            }
            double tNorm = VectorMath.norm(tangent);
            if (tNorm < tol) {
                break;
            }
            float cm = (float) Math.cos(tNorm);
            float ct = (float) (Math.sin(tNorm) / tNorm);
            for (int i = 0; i < n; i++) {
                mean[i] = cm * mean[i] + ct * tangent[i];
            }
            double un = VectorMath.norm(mean);
            if (un > tol) {
                scale(mean, 1.0 / un);
            }
        }
        double s = 0;
        for (int j = 0; j < k; j++) {
            s += alpha * norms[j];
        }
        scale(mean, s);
        return mean;
    }

    private static void scale(float[] v, double s) {
        float f = (float) s;
        for (int i = 0; i < v.length; i++) {
            v[i] *= f;
        }
    }
}
