package dev.amalgam.pruning;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.List;

/**
 * Per-layer importance scores of the one-shot layer baselines, from the dense model's residual stream on the
 * calibration set ({@code x_i} = input of layer i, {@code x_i+1} = its output, before the final norm), averaged over
 * every calibration token:
 * <ul>
 * <li>ShortGPT Block Influence (Men et al., 2024): {@code BI_i = 1 - mean_t cos(x_i,t, x_i+1,t)}.</li>
 * <li>Relative Magnitude (Samragh et al., 2023): {@code mean_t ||f_i(x)|| / ||x + f_i(x)||} with
 * {@code f_i(x) = x_i+1 - x_i}, the layer's non-residual part.</li>
 * </ul>
 * Lower means less important: those layers go first.
 */
final class LayerImportance {

    /** Which score. */
    enum Kind { BLOCK_INFLUENCE, RELATIVE_MAGNITUDE }

    private LayerImportance() {
    }

    /** One score per layer, index = layer. */
    static List<Double> scores(BlockRunner runner, Kind kind) {
        int layers = runner.positions() / 2;
        double[] sums = new double[layers];
        long tokens = 0;
        for (int b = 0; b < runner.batchCount(); b++) {
            try (NDManager scope = runner.scopeParent().newSubManager()) {
                NDArray x = runner.embed(b, scope);
                tokens += x.getShape().get(0) * x.getShape().get(1);
                for (int i = 0; i < layers; i++) {
                    NDArray y = runner.applyLayer(x, i, b, scope);
                    sums[i] += perTokenSum(x, y, kind);
                    x.close();
                    x = y;
                }
            }
        }
        List<Double> out = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            double mean = sums[i] / tokens;
            out.add(kind == Kind.BLOCK_INFLUENCE ? 1 - mean : mean);
        }
        return out;
    }

    // Sum over tokens of cos(x, y) or ||y - x|| / ||y||, in FP32 per token, summed in double.
    private static double perTokenSum(NDArray x, NDArray y, Kind kind) {
        try (NDManager tmp = x.getManager().newSubManager()) {
            x.tempAttach(tmp);
            y.tempAttach(tmp);
            NDArray xf = x.toType(DataType.FLOAT32, false); // [b, t, hidden]
            NDArray yf = y.toType(DataType.FLOAT32, false);
            NDArray yNorm = yf.norm(new int[] {-1}); // [b, t]
            NDArray perToken = kind == Kind.BLOCK_INFLUENCE
                    ? xf.mul(yf).sum(new int[] {-1}).div(xf.norm(new int[] {-1}).mul(yNorm))
                    : yf.sub(xf).norm(new int[] {-1}).div(yNorm);
            double sum = 0;
            for (float v : perToken.toFloatArray()) {
                sum += v;
            }
            return sum;
        }
    }
}
