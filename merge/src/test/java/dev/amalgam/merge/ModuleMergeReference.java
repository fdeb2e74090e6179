package dev.amalgam.merge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.amalgam.modelio.HfModelDir;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Plain references for the tests of multi-module (vision-language) merges, written from mergekit's formulas and
 * shared by them: a tensor's gradient position within its own layer stack, the weighted mean, TIES, and the
 * element-wise comparison.
 */
public final class ModuleMergeReference {

    private ModuleMergeReference() {
    }

    /**
     * One layer stack of a family: the names of its layers ({@code group(1)} the layer index) and how many layers
     * it has.
     */
    public record Stack(Pattern layer, int layers) {
        public static Stack of(String regex, int layers) {
            return new Stack(Pattern.compile(regex), layers);
        }
    }

    /**
     * A tensor's gradient position, as mergekit's plan_slice gives it: {@code idx / (layers - 1)} within its own
     * stack (1 for a stack of one layer); 0 for a weight outside every stack.
     */
    public static double t(String name, List<Stack> stacks) {
        for (Stack s : stacks) {
            Matcher m = s.layer().matcher(name);
            if (m.find()) {
                return s.layers() > 1 ? Integer.parseInt(m.group(1)) / (double) (s.layers() - 1) : 1;
            }
        }
        return 0;
    }

    /** Every tensor of a model directory, widened to floats, by name. */
    public static Map<String, float[]> tensors(Path model) {
        Map<String, float[]> res = new TreeMap<>();
        try (HfModelDir m = HfModelDir.open(model)) {
            m.tensorNames().forEach(n -> res.put(n, m.tensor(n).toFloatArray()));
        }
        return res;
    }

    /** mergekit's linear merge with normalised weights: {@code sum w_i x_i / sum w_i}. */
    public static double[] linear(List<float[]> models, double[] weights) {
        double[] out = new double[models.get(0).length];
        double sum = Arrays.stream(weights).sum();
        for (int i = 0; i < out.length; i++) {
            double acc = 0;
            for (int m = 0; m < models.size(); m++) {
                acc += weights[m] * models.get(m)[i];
            }
            out[i] = acc / sum;
        }
        return out;
    }

    /**
     * mergekit's TIES (normalize, lambda 1): each task vector keeps its int(density n) largest magnitudes (the lower
     * index first among equal ones), the sign of the weighted sum is elected (0 counts as +), and the agreeing
     * weighted deltas are summed and divided by the sum of their weights (1 where none agrees).
     */
    public static double[] ties(float[] base, List<float[]> models, double[] weights, double density) {
        int n = base.length;
        double[][] wd = new double[models.size()][n];
        for (int m = 0; m < models.size(); m++) {
            double[] d = new double[n];
            for (int i = 0; i < n; i++) {
                d[i] = models.get(m)[i] - base[i];
            }
            Integer[] order = new Integer[n];
            for (int i = 0; i < n; i++) {
                order[i] = i;
            }
            Arrays.sort(order, (x, y) -> Double.compare(Math.abs(d[y]), Math.abs(d[x])));
            boolean[] keep = new boolean[n];
            for (int k = 0; k < (int) (density * n); k++) {
                keep[order[k]] = true;
            }
            for (int i = 0; i < n; i++) {
                wd[m][i] = keep[i] ? weights[m] * d[i] : 0;
            }
        }
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            double sum = 0;
            for (double[] x : wd) {
                sum += x[i];
            }
            boolean positive = sum >= 0;
            double mixed = 0;
            double div = 0;
            for (int m = 0; m < wd.length; m++) {
                if (wd[m][i] != 0 && (wd[m][i] > 0) == positive) {
                    mixed += wd[m][i];
                    div += weights[m];
                }
            }
            out[i] = base[i] + mixed / (div == 0 ? 1 : div);
        }
        return out;
    }

    /** Element by element within 1e-5 (relative above 1), naming the tensor and the index that differs. */
    public static void assertClose(float[] got, double[] want, String what) {
        assertClose(got, want, what, 1e-5);
    }

    /** Element by element within {@code tolerance} (relative above 1), naming the tensor and the index that differs. */
    public static void assertClose(float[] got, double[] want, String what, double tolerance) {
        assertThat(got.length).as(what).isEqualTo(want.length);
        for (int i = 0; i < got.length; i++) {
            if (!(Math.abs(got[i] - want[i]) <= tolerance * Math.max(1, Math.abs(want[i])))) {
                throw new AssertionError(what + "[" + i + "]: got " + got[i] + ", expected " + want[i]);
            }
        }
    }
}
