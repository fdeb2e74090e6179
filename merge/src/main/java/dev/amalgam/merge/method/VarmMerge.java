package dev.amalgam.merge.method;

import dev.amalgam.merge.kernel.FloatSink;
import dev.amalgam.merge.kernel.FloatSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * VaRM (FuseChat, variation-ratio merge). By default the paper's formula: per tensor, W_j = mean(d_j^2) /
 * sum_k mean(d_k^2) with d_j = theta_j - theta_pivot, and theta = sum_j W_j theta_j (equal weights when every
 * target's variation is zero). The base model is the pivot; it is not itself one of the merged targets.
 *
 * <p>The parameters reproduce the variants of the FuseChat authors' merge script (docs/algorithms.md, section 3):
 * {@code granularity} says over what the variation is measured and one set of weights shared ({@code parameter}:
 * each tensor, the paper; {@code element}: each element; {@code module}: a layer's attention, MLP or each norm;
 * {@code layer}; {@code model}), {@code variation} which statistic of the delta ({@code square}: d^2, the paper;
 * {@code abs}: |d|; {@code sum}: d itself), {@code softmax} with {@code temperature} replaces the plain
 * normalisation, and tensors whose name contains one of the comma-separated {@code excluded} patterns are taken
 * from the first target unmerged.
 */
public final class VarmMerge implements MergeMethod {

    /** A layer's modules, in the order the authors' script tries them against a tensor name. */
    static final List<String> MODULES = List.of("self_attn", "mlp", "input_layernorm", "post_attention_layernorm");
    /** Below this summed element variation, an element's weights are equal (the authors' floor; see below). */
    static final double ELEMENT_FLOOR = 1e-13;
    private static final Pattern LAYER = Pattern.compile("\\.layers\\.(\\d+)\\.");
    private static final int READ = 1 << 16;

    /** Per-tensor variation sums, when prepared for a module, layer or model granularity; else null. */
    private final Statistics statistics;

    public VarmMerge() {
        this(null);
    }

    private VarmMerge(Statistics statistics) {
        this.statistics = statistics;
    }

    @Override
    public String name() {
        return "varm";
    }

    @Override
    public String reference() {
        return "https://arxiv.org/abs/2402.16107";
    }

    @Override
    public List<ParameterDef> parameters() {
        return List.of(ParameterDef.choice("granularity", "parameter", "element", "module", "layer", "model"),
                ParameterDef.choice("variation", "square", "abs", "sum"),
                ParameterDef.bool("softmax", false),
                ParameterDef.number("temperature", 1.0, Double.MIN_VALUE, Double.MAX_VALUE),
                ParameterDef.string("excluded", ""));
    }

    @Override
    public BasePolicy basePolicy() {
        return BasePolicy.REQUIRED;
    }

    @Override
    public Optional<String> checkInputs(int nonBaseModels, boolean hasBase) {
        return nonBaseModels >= 1 ? Optional.empty() : Optional.of("varm needs at least one target model besides the pivot");
    }

    /** Reads every tensor's variation sums once when some tensor's weights are shared by a module, layer or model. */
    @Override
    public MergeMethod prepare(List<TensorView> tensors) {
        boolean grouped = tensors.stream().anyMatch(t -> isGroup(t.params().string("granularity")));
        if (!grouped) {
            return this;
        }
        Map<String, TensorStats> byName = new HashMap<>();
        // each tensor's sums are sequential, so the result does not depend on the threads
        tensors.parallelStream().map(VarmMerge::stats).toList().forEach(s -> byName.put(s.name(), s));
        return new VarmMerge(new Statistics(byName));
    }

    @Override
    public void merge(MergeInputs in, FloatSink out) {
        TensorParams p = in.params();
        List<Integer> others = in.others();
        if (excluded(in.tensorName(), p.string("excluded"))) {
            out.writeAll(in.tensors().get(others.get(0)).clone());
            return;
        }
        Variation variation = Variation.of(p.string("variation"));
        String granularity = p.string("granularity");
        if (granularity.equals("element")) {
            out.writeAll(perElement(in, variation));
            return;
        }
        double[] v = granularity.equals("parameter") ? tensorVariations(in, variation)
                : statistics.groupVariations(in.tensorName(), granularity, variation);
        double[] w = weights(v, p.bool("softmax"), p.number("temperature"));
        int n = in.length();
        float[] merged = new float[n];
        for (int j = 0; j < others.size(); j++) {
            float wj = (float) w[j];
            float[] x = in.tensors().get(others.get(j));
            for (int i = 0; i < n; i++) {
                merged[i] += wj * x[i];
            }
        }
        out.writeAll(merged);
    }

    /**
     * Weights from the targets' variations (absolute values, as the authors' script takes them): v_j / sum v, or
     * softmax(v / temperature); equal when every variation is 0 (the paper's rule).
     */
    static double[] weights(double[] variations, boolean softmax, double temperature) {
        int k = variations.length;
        double[] v = Arrays.stream(variations).map(Math::abs).toArray();
        double sum = Arrays.stream(v).sum();
        double[] w = new double[k];
        if (sum == 0 || !Double.isFinite(sum)) {
            Arrays.fill(w, 1.0 / k);
            return w;
        }
        if (softmax) {
            double max = Arrays.stream(v).max().orElse(0);
            double z = 0;
            for (int j = 0; j < k; j++) {
                w[j] = Math.exp((v[j] - max) / temperature);
                z += w[j];
            }
            for (int j = 0; j < k; j++) {
                w[j] /= z;
            }
            return w;
        }
        for (int j = 0; j < k; j++) {
            w[j] = v[j] / sum;
        }
        return w;
    }

    /** mean f(d_j) over the tensor, for each target j. */
    private static double[] tensorVariations(MergeInputs in, Variation f) {
        float[] pivot = in.base();
        List<Integer> others = in.others();
        int n = pivot.length;
        double[] v = new double[others.size()];
        for (int j = 0; j < v.length; j++) {
            float[] x = in.tensors().get(others.get(j));
            double s = 0;
            for (int i = 0; i < n; i++) {
                s += f.of((double) x[i] - pivot[i]);
            }
            v[j] = s / n;
        }
        return v;
    }

    /**
     * Element granularity: w_j = f(d_j) / sum_k f(d_k) at each element. Where the sum's magnitude is below
     * {@link #ELEMENT_FLOOR} the weights are equal (every target then equals the pivot for square and abs); the
     * authors' script raises such sums, negative ones too, to the floor, which zeroes unchanged elements.
     */
    private static float[] perElement(MergeInputs in, Variation f) {
        float[] pivot = in.base();
        List<Integer> others = in.others();
        int k = others.size();
        int n = pivot.length;
        float[][] x = new float[k][];
        for (int j = 0; j < k; j++) {
            x[j] = in.tensors().get(others.get(j));
        }
        double[] fj = new double[k];
        float[] merged = new float[n];
        for (int i = 0; i < n; i++) {
            double sum = 0;
            for (int j = 0; j < k; j++) {
                fj[j] = f.of((double) x[j][i] - pivot[i]);
                sum += fj[j];
            }
            double acc = 0;
            for (int j = 0; j < k; j++) {
                double w = Math.abs(sum) < ELEMENT_FLOOR ? 1.0 / k : fj[j] / sum;
                acc += w * x[j][i];
            }
            merged[i] = (float) acc;
        }
        return merged;
    }

    private static boolean isGroup(String granularity) {
        return granularity.equals("module") || granularity.equals("layer") || granularity.equals("model");
    }

    /** Whether a comma-separated pattern (a plain substring, as the script escapes them) occurs in the name. */
    static boolean excluded(String tensorName, String patterns) {
        for (String pattern : patterns.split(",")) {
            if (!pattern.isEmpty() && tensorName.contains(pattern)) {
                return true;
            }
        }
        return false;
    }

    /** The module a tensor belongs to: its name up to the first of {@link #MODULES} it contains, else itself. */
    static String moduleOf(String tensorName) {
        for (String module : MODULES) {
            int at = tensorName.indexOf(module);
            if (at >= 0) {
                return tensorName.substring(0, at + module.length());
            }
        }
        return tensorName;
    }

    /** The layer index in a tensor name ({@code .layers.N.}), or null outside the layers. */
    static String layerOf(String tensorName) {
        Matcher m = LAYER.matcher(tensorName);
        return m.find() ? m.group(1) : null;
    }

    private static TensorStats stats(TensorView t) {
        List<FloatSource> inputs = t.inputs().get();
        FloatSource pivot = inputs.get(t.baseIndex());
        int n = pivot.length();
        List<String> targets = new ArrayList<>();
        List<FloatSource> xs = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            if (i != t.baseIndex()) {
                targets.add(t.models().get(i));
                xs.add(inputs.get(i));
            }
        }
        int k = xs.size();
        double[][] sums = new double[Variation.values().length][k];
        float[] b = new float[READ];
        float[] x = new float[READ];
        for (int from = 0; from < n; from += READ) {
            int len = Math.min(READ, n - from);
            pivot.read(from, b, 0, len);
            for (int j = 0; j < k; j++) {
                xs.get(j).read(from, x, 0, len);
                double sq = 0;
                double ab = 0;
                double sg = 0;
                for (int i = 0; i < len; i++) {
                    double d = (double) x[i] - b[i];
                    sq += d * d;
                    ab += Math.abs(d);
                    sg += d;
                }
                sums[Variation.SQUARE.ordinal()][j] += sq;
                sums[Variation.ABS.ordinal()][j] += ab;
                sums[Variation.SUM.ordinal()][j] += sg;
            }
        }
        return new TensorStats(t.name(), targets, n, sums);
    }

    /** The statistic of a delta that VaRM's ratio is built from. */
    enum Variation {
        SQUARE, ABS, SUM;

        static Variation of(String name) {
            return valueOf(name.toUpperCase(java.util.Locale.ROOT));
        }

        double of(double d) {
            return switch (this) {
                case SQUARE -> d * d;
                case ABS -> Math.abs(d);
                case SUM -> d;
            };
        }
    }

    /**
     * One tensor's variation sums.
     *
     * @param targets the target models (inputs but the pivot), in input order
     * @param sums    per {@link Variation}, per target: sum over the elements of f(d)
     */
    private record TensorStats(String name, List<String> targets, long numel, double[][] sums) {
        double mean(Variation f, int target) {
            return sums[f.ordinal()][target] / numel;
        }
    }

    /**
     * Every merged tensor's sums, and the group variations the authors' analysis script computes from them. A
     * group's variations are computed once, on the first of its tensors that asks, and shared by the others.
     */
    private static final class Statistics {
        private final Map<String, TensorStats> tensors;
        private final Map<Group, double[]> groups = new java.util.concurrent.ConcurrentHashMap<>();

        Statistics(Map<String, TensorStats> tensors) {
            this.tensors = Map.copyOf(tensors);
        }

        /**
         * The variation of each target of {@code tensorName} over its group: a module's or a layer's is the sum
         * of its tensors' mean variations; the model's is the sum over every tensor divided by the element count.
         * A tensor outside the layers has equal weights at layer granularity, as in the script (all variations 1).
         */
        double[] groupVariations(String tensorName, String granularity, Variation f) {
            TensorStats self = tensors.get(tensorName);
            String layer = layerOf(tensorName);
            if (granularity.equals("layer") && layer == null) {
                double[] v = new double[self.targets().size()];
                Arrays.fill(v, 1);
                return v;
            }
            String key = switch (granularity) {
                case "module" -> moduleOf(tensorName);
                case "layer" -> layer;
                default -> "";
            };
            return groups.computeIfAbsent(new Group(granularity, key, f, self.targets()), this::variations).clone();
        }

        private double[] variations(Group g) {
            double[] v = new double[g.targets().size()];
            long numel = 0;
            for (TensorStats t : tensors.values()) {
                boolean member = switch (g.granularity()) {
                    case "module" -> moduleOf(t.name()).equals(g.key());
                    case "layer" -> g.key().equals(layerOf(t.name()));
                    default -> true;
                };
                if (!member) {
                    continue;
                }
                numel += t.numel();
                for (int j = 0; j < v.length; j++) {
                    int at = t.targets().indexOf(g.targets().get(j));
                    if (at >= 0) {
                        v[j] += g.granularity().equals("model") ? t.sums()[g.f().ordinal()][at] : t.mean(g.f(), at);
                    }
                }
            }
            if (g.granularity().equals("model")) {
                for (int j = 0; j < v.length; j++) {
                    v[j] /= numel;
                }
            }
            return v;
        }

        /** A group of tensors sharing one set of weights, for one statistic and one list of targets. */
        private record Group(String granularity, String key, Variation f, List<String> targets) {
        }
    }
}
