package dev.amalgam.merge.method;

import dev.amalgam.merge.kernel.Chunks;
import dev.amalgam.merge.kernel.FloatSink;
import java.util.List;

/** Linear (weighted average, "model soups"): {@code sum w_i x_i / sum w_i}, streaming its inputs. */
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
    public boolean streams(TensorParams params) {
        return true;
    }

    /**
     * Each chunk of the output from the same chunk of every input, read in one sequential run each. The products
     * and sums are those of {@code (((w0 x0 + w1 x1) + w2 x2) + ...) / div} in FP32, in that order; the division
     * rides in the last input's pass instead of a pass of its own. Every loop indexes its arrays from the same
     * offset: C2 cannot rule out that float arrays at different offsets overlap, and such a loop ran several times
     * slower.
     */
    @Override
    public void merge(MergeInputs in, FloatSink sink) {
        int n = in.length();
        int k = in.count();
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
        Chunks.forEach(n, (c, from, to) -> {
            float[][] buffers = Chunks.buffers(2);
            float[] out = buffers[0]; // FP32 accumulator of the chunk, indexed from the chunk's start
            float[] x = buffers[1];
            int len = to - from;
            in.source(0).read(from, out, 0, len); // each input in one sequential run
            if (k == 1) {
                scaleDivide(out, w[0], div, len);
            } else {
                scale(out, w[0], len);
                for (int m = 1; m < k - 1; m++) {
                    in.source(m).read(from, x, 0, len);
                    addWeighted(out, x, w[m], len);
                }
                in.source(k - 1).read(from, x, 0, len);
                addWeightedDivide(out, x, w[k - 1], div, len);
            }
            sink.write(from, out, 0, len);
        });
    }

    /** a[t] = (w * a[t]) / div. */
    private static void scaleDivide(float[] a, float w, float div, int len) {
        for (int t = 0; t < len; t++) {
            a[t] = (w * a[t]) / div;
        }
    }

    /** a[t] = w * a[t]. */
    private static void scale(float[] a, float w, int len) {
        for (int t = 0; t < len; t++) {
            a[t] = w * a[t];
        }
    }

    /** a[t] += w * b[t]. */
    private static void addWeighted(float[] a, float[] b, float w, int len) {
        for (int t = 0; t < len; t++) {
            a[t] += w * b[t];
        }
    }

    /** a[t] = (a[t] + w * b[t]) / div. */
    private static void addWeightedDivide(float[] a, float[] b, float w, float div, int len) {
        for (int t = 0; t < len; t++) {
            a[t] = (a[t] + w * b[t]) / div;
        }
    }
}
