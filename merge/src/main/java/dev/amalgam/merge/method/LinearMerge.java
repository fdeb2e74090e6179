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

    /** Each chunk of the output from the same chunk of every input, read in one sequential run each. */
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
            float w0 = w[0];
            for (int t = 0; t < len; t++) {
                out[t] = w0 * out[t];
            }
            for (int m = 1; m < k; m++) {
                in.source(m).read(from, x, 0, len);
                float wm = w[m];
                for (int t = 0; t < len; t++) {
                    out[t] += wm * x[t];
                }
            }
            for (int t = 0; t < len; t++) {
                out[t] /= div;
            }
            sink.write(from, out, 0, len);
        });
    }
}
