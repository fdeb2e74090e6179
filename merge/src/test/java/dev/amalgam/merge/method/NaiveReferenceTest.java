package dev.amalgam.merge.method;

import static org.assertj.core.api.Assertions.assertThat;

import dev.amalgam.merge.kernel.FloatSink;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The fast paths (streamed, chunked, blocked, top-k cuts) of linear, the task-arithmetic family and SCE equal the
 * plain reference {@link NaiveMerges} element by element, exactly: both compute the same FP32 operations in the
 * same order per element (signed zeros count as equal, any NaN as equal to any NaN). The inputs: Gaussian values,
 * BF16 models that differ by small BF16 perturbations (many equal magnitudes at the top-k thresholds), sparse
 * zeros, identical models, and values with NaN, infinities and -0 (at most one special value per element across the
 * inputs, so no NaN arises whose sign the hardware picks); 1 to 3 models besides the base, the base anywhere;
 * tensors of one chunk, and of several chunks and above the top-k sampling size; densities 0 to 1, weights of
 * opposite signs, normalize, rescale and lambda. A second test checks that owned, borrowed and streamed inputs give
 * the same bits and that borrowed inputs stay untouched.
 */
class NaiveReferenceTest {

    private static final int[][] SHAPES = {{1, 1}, {1, 7}, {10, 50}, {40, 257}, {600, 2048}};
    private static final String[] KINDS = {"gaussian", "tie-heavy BF16", "sparse zeros", "identical", "NaN/inf/-0"};
    private static final Object[] LAST = new Object[2]; // the key and the inputs of the last case

    private static final List<String> TASK_ARITHMETIC = List.of("task_arithmetic", "ties", "dare_linear", "dare_ties",
            "breadcrumbs", "breadcrumbs_ties", "della", "della_linear");

    /**
     * One merge: a method, the inputs' shape, kind, count and seed, where the base is, and the parameters.
     */
    record Case(String method, int[] shape, int kind, int models, long dataSeed, int baseIndex,
                Map<String, Object> global, List<Map<String, Object>> perModel) {

        @Override
        public String toString() {
            StringBuilder s = new StringBuilder(method).append(", ").append(shape[0]).append("x").append(shape[1])
                    .append(", ").append(KINDS[kind]).append(", ").append(models).append(" inputs");
            if (baseIndex >= 0) {
                s.append(" (base ").append(baseIndex).append(")");
            }
            List<String> per = new ArrayList<>();
            for (int m = 0; m < perModel.size(); m++) {
                if (m != baseIndex) {
                    per.add(new java.util.TreeMap<>(perModel.get(m)).toString());
                }
            }
            s.append(", models ").append(String.join(" ", per));
            if (!global.isEmpty()) {
                s.append(", ").append(new java.util.TreeMap<>(global));
            }
            return s.toString();
        }

        int n() {
            return shape[0] * shape[1];
        }

        /** The inputs, generated once for the consecutive cases that share them (the methods leave them as they are). */
        float[][] inputs() {
            synchronized (LAST) {
                String key = n() + "/" + models + "/" + kind + "/" + dataSeed;
                if (!key.equals(LAST[0])) {
                    LAST[0] = key;
                    LAST[1] = data(n(), models, kind, dataSeed);
                }
                return (float[][]) LAST[1];
            }
        }
    }

    static Stream<Case> cases() {
        List<Case> cases = new ArrayList<>();
        long seed = 1;
        for (int[] s : SHAPES) {
            boolean large = s[0] * s[1] > 100_000;
            for (int kind = 0; kind < KINDS.length; kind++) {
                for (int models = 2; models <= 4; models++) {
                    if (large && (kind == 0 || kind >= 3 || models != 3)) {
                        continue; // several chunks: the tie-heavy and zero-heavy inputs are enough
                    }
                    long dataSeed = seed++;
                    int baseIndex = (int) (dataSeed % models);
                    linearCases(cases, s, kind, models, dataSeed);
                    sceCases(cases, s, kind, models, dataSeed, baseIndex, large);
                    for (String method : TASK_ARITHMETIC) {
                        if (large && method.startsWith("della") && kind != 1) {
                            continue; // per-row sorts; one input kind covers them
                        }
                        taskArithmeticCases(cases, method, s, kind, models, dataSeed, baseIndex, large);
                    }
                }
            }
        }
        return cases.stream();
    }

    private static void linearCases(List<Case> cases, int[] shape, int kind, int models, long dataSeed) {
        boolean large = shape[0] * shape[1] > 100_000;
        for (int variant = large ? kind - 1 : 0; variant < (large ? kind : 2); variant++) {
            List<Map<String, Object>> per = new ArrayList<>();
            for (int m = 0; m < models; m++) {
                per.add(p("weight", variant == 0 ? 0.2 + 0.3 * m : (m % 2 == 0 ? 1.5 : -0.5)));
            }
            cases.add(new Case("linear", shape, kind, models, dataSeed, -1, p("normalize", variant == 0), per));
        }
    }

    private static void sceCases(List<Case> cases, int[] shape, int kind, int models, long dataSeed, int baseIndex,
                                 boolean large) {
        List<Map<String, Object>> per = new ArrayList<>();
        for (int m = 0; m < models; m++) {
            per.add(p());
        }
        double[] taus = large ? (kind == 1 ? new double[]{0.5, 0.1} : new double[]{0.1})
                : new double[]{1, 0.9, 0.5, 0.1, 1e-7, 0};
        for (double tau : taus) {
            cases.add(new Case("sce", shape, kind, models, dataSeed, baseIndex, p("select_topk", tau), per));
        }
    }

    private static void taskArithmeticCases(List<Case> cases, String method, int[] shape, int kind, int models,
                                            long dataSeed, int baseIndex, boolean large) {
        boolean della = method.startsWith("della");
        double[][] densities = {{1, 1, 1}, {0.5, 0.5, 0.5}, {0.9, 0.1, 0.3}, {0.0, 0.5, 1e-7}};
        for (int di = 0; di < densities.length; di++) {
            double[] dens = densities[di];
            if (della && (dens[0] == 0 || dens[2] < 0.2)) {
                dens = new double[]{0.5, 0.4, 0.6}; // density +- epsilon must lie in (0, 1)
            }
            for (int variant = 0; variant < 3; variant++) {
                if (large && !((di == 1 && variant == 0) || (kind == 1 && di == 2 && variant == 2))) {
                    continue; // several chunks: density 0.5 plain, and on tie-heavy inputs mixed densities rescaled
                }
                List<Map<String, Object>> per = new ArrayList<>();
                int o = 0;
                for (int m = 0; m < models; m++) {
                    if (m == baseIndex) {
                        per.add(p());
                        continue;
                    }
                    double w = variant == 2 ? (o % 2 == 0 ? 1.0 : -1.0) : 0.3 + 0.4 * o;
                    Map<String, Object> mp = p("weight", w, "density", dens[o % 3]);
                    if (della) {
                        mp.put("epsilon", 0.1);
                    }
                    if (method.startsWith("breadcrumbs") && variant == 1) {
                        mp.put("gamma", 0.0); // no top outliers dropped (mergekit's [n_bot:-0] corner)
                    }
                    per.add(mp);
                    o++;
                }
                Map<String, Object> global = variant == 0 ? p()
                        : p("normalize", variant == 1, "rescale", variant == 2, "lambda", 0.7);
                cases.add(new Case(method, shape, kind, models, dataSeed, baseIndex, global, per));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void fastPathEqualsTheNaiveReference(Case c) {
        MergeMethod method = MergeMethods.get(c.method());
        float[][] x = c.inputs();
        float[] expected = naive(c, method, x);
        float[] got = merge(c, method, x, Mode.BORROWED);
        assertEqualElements(got, expected, c.toString());
    }

    /** How a case hands its inputs to the method. */
    enum Mode {
        /** Arrays the method may overwrite. */
        OWNED,
        /** Arrays the method must leave untouched. */
        BORROWED,
        /** Sources read by range, as the merge executor hands over memory-mapped tensors. */
        STREAMED
    }

    static Stream<Case> inputModeCases() {
        // every method and input kind on one chunk, every method on several chunks
        Map<String, Boolean> largeSeen = new HashMap<>();
        return cases().filter(c -> (c.shape()[0] == 40 && c.models() == 3)
                || (c.n() > 100_000 && largeSeen.putIfAbsent(c.method(), true) == null));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("inputModeCases")
    void ownedBorrowedAndStreamedInputsGiveTheSameBits(Case c) {
        MergeMethod method = MergeMethods.get(c.method());
        float[][] x = c.inputs();
        float[][] untouched = copy(x);
        float[] borrowed = merge(c, method, x, Mode.BORROWED);
        for (int m = 0; m < x.length; m++) {
            assertThat(Arrays.equals(x[m], untouched[m])).as("borrowed input %d untouched", m).isTrue();
        }
        float[] streamed = merge(c, method, x, Mode.STREAMED);
        float[] owned = merge(c, method, copy(x), Mode.OWNED);
        assertThat(firstBitDifference(streamed, borrowed)).as("streamed vs borrowed: first differing element").isEqualTo(-1);
        assertThat(firstBitDifference(owned, borrowed)).as("owned vs borrowed: first differing element").isEqualTo(-1);
    }

    private static float[] merge(Case c, MergeMethod method, float[][] x, Mode mode) {
        List<TensorParams> params = new ArrayList<>();
        for (Map<String, Object> p : c.perModel()) {
            params.add(TestInputs.withDefaults(method.modelParameters(), p));
        }
        TensorParams global = TestInputs.withDefaults(method.parameters(), c.global());
        long[] shape = {c.shape()[0], c.shape()[1]};
        MergeInputs in = mode == Mode.STREAMED
                ? MergeInputs.streamed("t", shape, TestInputs.sources(x), params, c.baseIndex(), global, 7)
                : new MergeInputs("t", shape, List.of(x), params, c.baseIndex(), global, 7, mode == Mode.OWNED);
        float[] out = new float[c.n()];
        method.merge(in, FloatSink.into(out));
        return out;
    }

    private static float[] naive(Case c, MergeMethod method, float[][] x) {
        List<TensorParams> params = new ArrayList<>();
        for (Map<String, Object> p : c.perModel()) {
            params.add(TestInputs.withDefaults(method.modelParameters(), p));
        }
        TensorParams g = TestInputs.withDefaults(method.parameters(), c.global());
        switch (c.method()) {
            case "linear" -> {
                double[] w = params.stream().mapToDouble(p -> p.number("weight")).toArray();
                return NaiveMerges.linear(x, w, g.bool("normalize"));
            }
            case "sce" -> {
                return NaiveMerges.sce(x, c.baseIndex(), g.number("select_topk"));
            }
            default -> {
                NaiveMerges.ModelParams[] mp = new NaiveMerges.ModelParams[x.length];
                for (int m = 0; m < x.length; m++) {
                    TensorParams p = params.get(m);
                    mp[m] = m == c.baseIndex() ? null : new NaiveMerges.ModelParams(p.number("weight"),
                            p.number("density"), p.has("gamma") ? p.number("gamma") : 0,
                            p.has("epsilon") ? p.number("epsilon") : 0);
                }
                NaiveMerges.Thinning thinning = switch (c.method()) {
                    case "task_arithmetic" -> NaiveMerges.Thinning.NONE;
                    case "ties" -> NaiveMerges.Thinning.MAGNITUDE;
                    case "dare_linear", "dare_ties" -> NaiveMerges.Thinning.RANDOM;
                    case "breadcrumbs", "breadcrumbs_ties" -> NaiveMerges.Thinning.MAGNITUDE_OUTLIERS;
                    default -> NaiveMerges.Thinning.DELLA;
                };
                boolean consensus = c.method().equals("ties") || c.method().endsWith("_ties")
                        || c.method().equals("della");
                return NaiveMerges.taskArithmetic(x, c.baseIndex(), mp, thinning, consensus, g.bool("normalize"),
                        g.bool("rescale"), g.number("lambda"), 7, c.shape()[1]);
            }
        }
    }

    /** Equal as values, with -0 equal to +0 and any NaN equal to any NaN; a failure names the first element. */
    private static void assertEqualElements(float[] got, float[] expected, String what) {
        for (int i = 0; i < expected.length; i++) {
            float a = got[i];
            float e = expected[i];
            if (!(a == e || (Float.isNaN(a) && Float.isNaN(e)))) {
                assertThat(a).as("%s: element %d of %d", what, i, expected.length).isEqualTo(e);
            }
        }
    }

    /** The first index whose bits differ (any NaN equal to any NaN), or -1. */
    private static int firstBitDifference(float[] a, float[] b) {
        for (int i = 0; i < a.length; i++) {
            if (Float.floatToIntBits(a[i]) != Float.floatToIntBits(b[i])) {
                return i;
            }
        }
        return -1;
    }

    private static float bf16(float v) {
        int b = Float.floatToRawIntBits(v);
        return Float.intBitsToFloat((b + 0x7fff + ((b >>> 16) & 1)) & 0xffff0000);
    }

    /**
     * kind 0: Gaussian; 1: BF16 base + small BF16 perturbation (many ties); 2: sparse zeros; 3: identical;
     * 4: Gaussian with NaN, infinities and -0, at most one of them per element across the inputs.
     */
    static float[][] data(int n, int models, int kind, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[][] t = new float[models][n];
        float[] specials = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0f};
        for (int i = 0; i < n; i++) {
            float b = (float) gauss(r);
            int special = kind == 4 && r.nextInt(20) == 0 ? r.nextInt(models) : -1;
            for (int m = 0; m < models; m++) {
                t[m][i] = switch (kind) {
                    case 0 -> (float) gauss(r);
                    case 1 -> bf16(m == 0 ? bf16(b) : bf16(bf16(b) + 0.01f * (float) gauss(r)));
                    case 2 -> r.nextInt(3) == 0 ? b : (r.nextInt(4) == 0 ? 0f : (float) gauss(r));
                    case 4 -> m == special ? specials[r.nextInt(specials.length)] : (float) gauss(r);
                    default -> b;
                };
            }
        }
        return t;
    }

    private static double gauss(SplittableRandom r) {
        double u = r.nextDouble(1e-12, 1);
        double v = r.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }

    private static float[][] copy(float[][] a) {
        float[][] c = new float[a.length][];
        for (int i = 0; i < a.length; i++) {
            c[i] = a[i].clone();
        }
        return c;
    }

    private static Map<String, Object> p(Object... kv) {
        Map<String, Object> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }
}
