package dev.amalgam.modelengine;

import java.util.Map;
import java.util.Set;

/**
 * Independent, deliberately naive reference forward of a Llama-family model in double precision, written from
 * the Hugging Face description (docs/algorithms.md, section 5) with plain loops. Shares no code with the engine:
 * its own hyper-parameter record, its own rotary frequencies, its own masking.
 */
final class NaiveLlama {

    record Params(int vocab, int hidden, int intermediate, int layers, int heads, int kvHeads, int headDim,
            double eps, double theta, boolean tied, boolean qkvBias, Integer window, double[] llama3Scaling) {
    }

    private final Params p;
    private final Map<String, float[]> w;

    NaiveLlama(Params p, Map<String, float[]> weights) {
        this.p = p;
        this.w = weights;
    }

    /** Logits [batch][seq][vocab]. mask may be null (all real). */
    double[][][] logits(int[][] ids, int[][] mask, Set<Integer> skipAttn, Set<Integer> skipMlp) {
        double[][][] out = new double[ids.length][][];
        for (int b = 0; b < ids.length; b++) {
            out[b] = sequence(ids[b], mask == null ? ones(ids[b].length) : mask[b], skipAttn, skipMlp);
        }
        return out;
    }

    /** Residual stream after the final norm, per position. */
    double[][] finalHidden(int[] ids, int[] mask, Set<Integer> skipAttn, Set<Integer> skipMlp) {
        return run(ids, mask, skipAttn, skipMlp);
    }

    private double[][] sequence(int[] ids, int[] mask, Set<Integer> skipAttn, Set<Integer> skipMlp) {
        double[][] h = run(ids, mask, skipAttn, skipMlp);
        float[] head = p.tied ? w.get("model.embed_tokens.weight") : w.get("lm_head.weight");
        double[][] logits = new double[ids.length][];
        for (int t = 0; t < ids.length; t++) {
            logits[t] = matVec(head, p.vocab, p.hidden, h[t], null);
        }
        return logits;
    }

    private double[][] run(int[] ids, int[] mask, Set<Integer> skipAttn, Set<Integer> skipMlp) {
        int n = ids.length;
        int[] pos = new int[n];
        int count = 0;
        for (int t = 0; t < n; t++) {
            count += mask[t];
            pos[t] = Math.max(0, count - 1);
        }
        float[] emb = w.get("model.embed_tokens.weight");
        double[][] x = new double[n][p.hidden];
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < p.hidden; i++) {
                x[t][i] = emb[ids[t] * p.hidden + i];
            }
        }
        for (int l = 0; l < p.layers; l++) {
            String pre = "model.layers." + l + ".";
            if (!skipAttn.contains(l)) {
                double[][] a = attention(x, pos, mask, pre);
                for (int t = 0; t < n; t++) {
                    for (int i = 0; i < p.hidden; i++) {
                        x[t][i] += a[t][i];
                    }
                }
            }
            if (!skipMlp.contains(l)) {
                for (int t = 0; t < n; t++) {
                    double[] hn = rms(x[t], w.get(pre + "post_attention_layernorm.weight"));
                    double[] g = matVec(w.get(pre + "mlp.gate_proj.weight"), p.intermediate, p.hidden, hn, null);
                    double[] u = matVec(w.get(pre + "mlp.up_proj.weight"), p.intermediate, p.hidden, hn, null);
                    double[] act = new double[p.intermediate];
                    for (int i = 0; i < act.length; i++) {
                        act[i] = g[i] / (1 + Math.exp(-g[i])) * u[i];
                    }
                    double[] d = matVec(w.get(pre + "mlp.down_proj.weight"), p.hidden, p.intermediate, act, null);
                    for (int i = 0; i < p.hidden; i++) {
                        x[t][i] += d[i];
                    }
                }
            }
        }
        double[][] out = new double[n][];
        for (int t = 0; t < n; t++) {
            out[t] = rms(x[t], w.get("model.norm.weight"));
        }
        return out;
    }

    private double[][] attention(double[][] x, int[] pos, int[] mask, String pre) {
        int n = x.length;
        int hd = p.headDim;
        double[][] q = new double[n][];
        double[][] k = new double[n][];
        double[][] v = new double[n][];
        for (int t = 0; t < n; t++) {
            double[] hn = rms(x[t], w.get(pre + "input_layernorm.weight"));
            q[t] = matVec(w.get(pre + "self_attn.q_proj.weight"), p.heads * hd, p.hidden, hn,
                    p.qkvBias ? w.get(pre + "self_attn.q_proj.bias") : null);
            k[t] = matVec(w.get(pre + "self_attn.k_proj.weight"), p.kvHeads * hd, p.hidden, hn,
                    p.qkvBias ? w.get(pre + "self_attn.k_proj.bias") : null);
            v[t] = matVec(w.get(pre + "self_attn.v_proj.weight"), p.kvHeads * hd, p.hidden, hn,
                    p.qkvBias ? w.get(pre + "self_attn.v_proj.bias") : null);
            for (int head = 0; head < p.heads; head++) {
                rope(q[t], head * hd, pos[t]);
            }
            for (int head = 0; head < p.kvHeads; head++) {
                rope(k[t], head * hd, pos[t]);
            }
        }
        double[][] ctx = new double[n][p.heads * hd];
        int group = p.heads / p.kvHeads;
        for (int head = 0; head < p.heads; head++) {
            int kvh = head / group; // repeat_kv: query head h reads kv head h / group
            for (int i = 0; i < n; i++) {
                double[] s = new double[n];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < n; j++) {
                    boolean ok = j <= i && mask[j] == 1 && (p.window == null || i - j < p.window);
                    if (!ok) {
                        s[j] = Double.NEGATIVE_INFINITY;
                        continue;
                    }
                    double dot = 0;
                    for (int c = 0; c < hd; c++) {
                        dot += q[i][head * hd + c] * k[j][kvh * hd + c];
                    }
                    s[j] = dot / Math.sqrt(hd);
                    max = Math.max(max, s[j]);
                }
                double sum = 0;
                for (int j = 0; j < n; j++) {
                    s[j] = s[j] == Double.NEGATIVE_INFINITY ? 0 : Math.exp(s[j] - max);
                    sum += s[j];
                }
                for (int j = 0; j < n && sum > 0; j++) { // a query with no visible key (padding) stays zero
                    if (s[j] == 0) {
                        continue; // masked key: its value may be garbage from a padded position
                    }
                    for (int c = 0; c < hd; c++) {
                        ctx[i][head * hd + c] += s[j] / sum * v[j][kvh * hd + c];
                    }
                }
            }
        }
        double[][] out = new double[n][];
        for (int t = 0; t < n; t++) {
            out[t] = matVec(w.get(pre + "self_attn.o_proj.weight"), p.hidden, p.heads * hd, ctx[t], null);
        }
        return out;
    }

    // Rotates one head in place: pairs (i, i + d/2), angle pos * freq_i.
    private void rope(double[] vec, int offset, int pos) {
        int half = p.headDim / 2;
        for (int i = 0; i < half; i++) {
            double freq = frequency(i);
            double c = Math.cos(pos * freq);
            double s = Math.sin(pos * freq);
            double a = vec[offset + i];
            double b = vec[offset + i + half];
            vec[offset + i] = a * c - b * s;
            vec[offset + i + half] = b * c + a * s;
        }
    }

    private double frequency(int i) {
        double f = Math.pow(p.theta, -2.0 * i / p.headDim);
        if (p.llama3Scaling == null) {
            return f;
        }
        double factor = p.llama3Scaling[0];
        double low = p.llama3Scaling[1];
        double high = p.llama3Scaling[2];
        double original = p.llama3Scaling[3];
        double wavelength = 2 * Math.PI / f;
        if (wavelength < original / high) {
            return f;
        }
        if (wavelength > original / low) {
            return f / factor;
        }
        double smooth = (original / wavelength - low) / (high - low);
        return (1 - smooth) * f / factor + smooth * f;
    }

    private double[] rms(double[] x, float[] weight) {
        double ss = 0;
        for (double v : x) {
            ss += v * v;
        }
        double inv = 1 / Math.sqrt(ss / x.length + p.eps);
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] * inv * weight[i];
        }
        return out;
    }

    private static double[] matVec(float[] m, int rows, int cols, double[] x, float[] bias) {
        double[] out = new double[rows];
        for (int r = 0; r < rows; r++) {
            double acc = bias == null ? 0 : bias[r];
            for (int c = 0; c < cols; c++) {
                acc += m[r * cols + c] * x[c];
            }
            out[r] = acc;
        }
        return out;
    }

    private static int[] ones(int n) {
        int[] a = new int[n];
        java.util.Arrays.fill(a, 1);
        return a;
    }
}
