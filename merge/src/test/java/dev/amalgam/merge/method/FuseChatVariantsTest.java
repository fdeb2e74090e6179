package dev.amalgam.merge.method;

import static dev.amalgam.merge.method.TestInputs.flat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.amalgam.merge.kernel.FloatSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The FuseChat authors' variants beside the defaults: SCE as FuseChat-2.0's own code computes it (the selection
 * shapes only the weights), VaRM's options from the FuseChat merge script, and DARE rescaled by 1/density.
 * Expected values are worked by hand or computed by a transcription of the authors' formulas written here.
 */
class FuseChatVariantsTest {

    private static final List<Map<String, Object>> NONE3 = List.of(Map.of(), Map.of(), Map.of());

    // ---------------------------------------------------------------- SCE

    /** FuseChat-2.0's sce_merging.py, transcribed naively in doubles: the mask only feeds the weights. */
    private static float[] fuseChatSce(float[] base, float[][] x, double tau) {
        int k = x.length;
        int n = base.length;
        double[][] d = new double[k][n];
        for (int j = 0; j < k; j++) {
            for (int i = 0; i < n; i++) {
                d[j][i] = (double) x[j][i] - base[i];
            }
        }
        double[] mask = new double[n];
        Arrays.fill(mask, 1);
        if (tau < 1) {
            double[] var = new double[n];
            int nonZero = 0;
            for (int i = 0; i < n; i++) {
                double mean = 0;
                for (int j = 0; j < k; j++) {
                    mean += d[j][i] / k;
                }
                for (int j = 0; j < k; j++) {
                    var[i] += (d[j][i] - mean) * (d[j][i] - mean) / k;
                }
                nonZero += var[i] != 0 ? 1 : 0;
            }
            int keep = (int) (tau * nonZero);
            Integer[] order = new Integer[n];
            for (int i = 0; i < n; i++) {
                order[i] = i;
            }
            Arrays.sort(order, (a, b) -> Double.compare(var[b], var[a]));
            Arrays.fill(mask, 0);
            for (int r = 0; r < keep; r++) {
                mask[order[r]] = 1;
            }
        }
        double[] w = new double[k];
        double sum = 0;
        for (int j = 0; j < k; j++) {
            for (int i = 0; i < n; i++) {
                w[j] += d[j][i] * mask[i] * d[j][i] * mask[i] / n;
            }
            sum += w[j];
        }
        for (int j = 0; j < k; j++) {
            w[j] = sum == 0 ? 1.0 / k : w[j] / sum;
        }
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int j = 0; j < k; j++) {
                s += d[j][i];
            }
            double majority = s >= 0 ? 1 : -1;
            double mixed = 0;
            double divisor = 0;
            for (int j = 0; j < k; j++) {
                double erase = Math.signum(d[j][i]) == majority ? 1 : 0;
                mixed += d[j][i] * w[j] * erase;
                divisor += w[j] * erase;
            }
            out[i] = (float) (base[i] + mixed / (divisor == 0 ? 1 : divisor));
        }
        return out;
    }

    @Test
    void sceWithSelectWeightsOnlyMatchesFuseChatsOwnCodeAndDiffersFromMergekits() {
        Random rnd = new Random(7);
        int n = 600;
        float[] base = new float[n];
        float[][] x = new float[3][n];
        for (int i = 0; i < n; i++) {
            base[i] = (float) rnd.nextGaussian();
            for (int j = 0; j < 3; j++) {
                x[j][i] = base[i] + (float) (rnd.nextGaussian() * (j + 1) * 0.1);
            }
        }
        MergeMethod sce = MergeMethods.get("sce");
        float[] expected = fuseChatSce(base, x, 0.1);
        float[] fuseChat = TestInputs.merge(sce, flat(sce, 0, Map.of("select_topk", 0.1, "select_weights_only", true),
                List.of(Map.of(), Map.of(), Map.of(), Map.of()), base, x[0], x[1], x[2]));
        for (int i = 0; i < n; i++) {
            assertThat(fuseChat[i]).as("element %d", i).isCloseTo(expected[i], within(1e-5f));
        }
        float[] mergekit = TestInputs.merge(sce, flat(sce, 0, Map.of("select_topk", 0.1),
                List.of(Map.of(), Map.of(), Map.of(), Map.of()), base, x[0], x[1], x[2]));
        // mergekit zeroes the unselected deltas, so 90 % of its elements are the base's; FuseChat's code mixes them
        long atBase = 0;
        long changed = 0;
        for (int i = 0; i < n; i++) {
            atBase += mergekit[i] == base[i] ? 1 : 0;
            changed += fuseChat[i] != base[i] ? 1 : 0;
        }
        assertThat(atBase).isGreaterThanOrEqualTo(n * 9 / 10 - 1);
        assertThat(changed).isGreaterThan(n * 9 / 10);
    }

    @Test
    void sceWithSelectWeightsOnlyAndEverythingSelectedEqualsTheDefault() {
        float[] base = {0, 1, 2, 3};
        float[] a = {1, 0, 2, 5};
        float[] b = {-1, 3, 2, 4};
        MergeMethod sce = MergeMethods.get("sce");
        List<Map<String, Object>> none = List.of(Map.of(), Map.of(), Map.of());
        float[] def = TestInputs.merge(sce, flat(sce, 0, Map.of(), none, base, a, b));
        float[] own = TestInputs.merge(sce, flat(sce, 0, Map.of("select_weights_only", true), none, base, a, b));
        assertThat(own).containsExactly(def);
        assertThat(own).containsExactly(fuseChatSce(base, new float[][]{a, b}, 1.0));
    }

    // ---------------------------------------------------------------- DARE

    @Test
    void dareRescaledByDensityDividesEveryKeptDeltaByTheDensity() {
        int n = 4000;
        float[] base = new float[n];
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            base[i] = i % 7;
            x[i] = base[i] + 0.25f * (1 + i % 3);
        }
        MergeMethod dare = MergeMethods.get("dare_linear");
        float[] out = TestInputs.merge(dare, flat(dare, 0, Map.of("rescale_by_density", true),
                List.of(Map.of(), Map.of("weight", 1.0, "density", 0.4)), base, x));
        int kept = 0;
        for (int i = 0; i < n; i++) {
            float d = x[i] - base[i];
            if (out[i] == base[i]) {
                continue;
            }
            kept++;
            assertThat(out[i]).as("element %d", i).isCloseTo(base[i] + d / 0.4f, within(1e-5f));
        }
        // 3 sigma of a binomial(4000, 0.4): 93
        assertThat(kept).isBetween(1600 - 93, 1600 + 93);
        // the default restores the L1 norm instead: the kept deltas are all scaled by one other factor
        float[] l1 = TestInputs.merge(dare, flat(dare, 0, Map.of(),
                List.of(Map.of(), Map.of("weight", 1.0, "density", 0.4)), base, x));
        double sumIn = 0;
        double sumOut = 0;
        for (int i = 0; i < n; i++) {
            sumIn += Math.abs(x[i] - base[i]);
            sumOut += Math.abs(l1[i] - base[i]);
        }
        assertThat(sumOut).isCloseTo(sumIn, within(1e-2 * sumIn));
    }

    // ---------------------------------------------------------------- VaRM

    @Test
    void varmWeightsNormaliseOrSoftmaxTheAbsoluteVariations() {
        assertThat(VarmMerge.weights(new double[]{1, 3}, false, 1)).containsExactly(0.25, 0.75);
        assertThat(VarmMerge.weights(new double[]{-1, 3}, false, 1)).containsExactly(0.25, 0.75);
        double e1 = Math.exp(1);
        double e3 = Math.exp(3);
        assertThat(VarmMerge.weights(new double[]{1, 3}, true, 1)[0]).isCloseTo(e1 / (e1 + e3), within(1e-12));
        // temperature 2: exp(0.5) vs exp(1.5)
        assertThat(VarmMerge.weights(new double[]{1, 3}, true, 2)[0])
                .isCloseTo(Math.exp(0.5) / (Math.exp(0.5) + Math.exp(1.5)), within(1e-12));
        assertThat(VarmMerge.weights(new double[]{0, 0, 0}, false, 1)).containsExactly(1 / 3.0, 1 / 3.0, 1 / 3.0);
    }

    @Test
    void varmElementGranularityWeighsEachElementByItsOwnVariation() {
        MergeMethod varm = MergeMethods.get("varm");
        float[] pivot = {0, 0, 1};
        float[] t1 = {1, 0, 1};
        float[] t2 = {3, 0, 2};
        // square: (1, 9) -> 0.1/0.9 -> 2.8; no variation -> equal -> 0; (0, 1) -> t2's 2
        float[] sq = TestInputs.merge(varm, flat(varm, 0, Map.of("granularity", "element"), NONE3, pivot, t1, t2));
        assertThat(sq[0]).isCloseTo(2.8f, within(1e-6f));
        assertThat(sq[1]).isEqualTo(0f);
        assertThat(sq[2]).isCloseTo(2f, within(1e-6f));
        // abs: (1, 3) -> 0.25/0.75 -> 2.5
        float[] ab = TestInputs.merge(varm, flat(varm, 0, Map.of("granularity", "element", "variation", "abs"),
                NONE3, pivot, t1, t2));
        assertThat(ab[0]).isCloseTo(2.5f, within(1e-6f));
    }

    @Test
    void varmParameterGranularityWithAbsAndSignedSumVariations() {
        MergeMethod varm = MergeMethods.get("varm");
        float[] pivot = {0, 0};
        // mean |d|: 1 and 1 -> equal weights; the paper's mean d^2 (1 and 2) would give 1/3, 2/3
        float[] abs = TestInputs.merge(varm, flat(varm, 0, Map.of("variation", "abs"), NONE3, pivot,
                new float[]{1, 1}, new float[]{2, 0}));
        assertThat(abs[0]).isCloseTo(1.5f, within(1e-6f));
        assertThat(abs[1]).isCloseTo(0.5f, within(1e-6f));
        // mean d: 1 and -1, taken absolute -> equal
        float[] sum = TestInputs.merge(varm, flat(varm, 0, Map.of("variation", "sum"), NONE3, pivot,
                new float[]{1, 1}, new float[]{-2, 0}));
        assertThat(sum[0]).isCloseTo(-0.5f, within(1e-6f));
        assertThat(sum[1]).isCloseTo(0.5f, within(1e-6f));
    }

    @Test
    void varmExcludedTensorsAreTheFirstTargetsUnmerged() {
        MergeMethod varm = MergeMethods.get("varm");
        float[] out = TestInputs.merge(varm, flat(varm, 0, Map.of("excluded", "embed,t"), NONE3,
                new float[]{0, 0}, new float[]{1, 2}, new float[]{5, 6}));
        assertThat(out).containsExactly(1f, 2f);
        assertThat(VarmMerge.excluded("model.embed_tokens.weight", "lm_head,embed_tokens")).isTrue();
        assertThat(VarmMerge.excluded("model.norm.weight", "lm_head,,embed_tokens")).isFalse();
    }

    private static final String Q = "model.layers.0.self_attn.q_proj.weight";
    private static final String K = "model.layers.0.self_attn.k_proj.weight";
    private static final String UP0 = "model.layers.0.mlp.up_proj.weight";
    private static final String UP1 = "model.layers.1.mlp.up_proj.weight";
    private static final String EMBED = "model.embed_tokens.weight";

    /** Each tensor: {t1, t2}, pivot zeros, two elements. */
    private static Map<String, float[][]> groupedModel() {
        Map<String, float[][]> m = new LinkedHashMap<>();
        m.put(Q, new float[][]{{1, 1}, {0, 2}});      // mean d^2: 1, 2
        m.put(K, new float[][]{{0, 0}, {1, 1}});      // 0, 1
        m.put(UP0, new float[][]{{2, 0}, {0, 0}});    // 2, 0
        m.put(UP1, new float[][]{{1, 0}, {1, 0}});    // 0.5, 0.5
        m.put(EMBED, new float[][]{{0, 2}, {2, 2}});  // 2, 4
        return m;
    }

    private static float[] mergeGrouped(String granularity, String tensor) {
        MergeMethod varm = MergeMethods.get("varm");
        TensorParams params = TestInputs.withDefaults(varm.parameters(), Map.of("granularity", granularity));
        Map<String, float[][]> model = groupedModel();
        List<TensorView> views = new ArrayList<>();
        model.forEach((name, t) -> views.add(new TensorView(name, List.of("pivot", "t1", "t2"), 0, params,
                () -> List.of(FloatSource.of(new float[2]), FloatSource.of(t[0]), FloatSource.of(t[1])))));
        MergeMethod prepared = varm.prepare(views);
        float[][] t = model.get(tensor);
        TensorParams none = TestInputs.withDefaults(varm.modelParameters(), Map.of());
        MergeInputs in = new MergeInputs(tensor, new long[]{2}, List.of(new float[2], t[0], t[1]),
                List.of(none, none, none), 0, params, 1);
        return TestInputs.merge(prepared, in);
    }

    @Test
    void varmModuleGranularitySharesOneRatioOverAModulesTensors() {
        // self_attn of layer 0 = q + k: t1 1 + 0 = 1, t2 2 + 1 = 3 -> 0.25 / 0.75
        assertThat(mergeGrouped("module", Q)).containsExactly(0.25f, 1.75f);
        assertThat(mergeGrouped("module", K)).containsExactly(0.75f, 0.75f);
        // mlp of layer 0: 2 and 0 -> t1 alone
        assertThat(mergeGrouped("module", UP0)).containsExactly(2f, 0f);
        // the embedding is its own module: 2 and 4 -> 1/3, 2/3
        float[] embed = mergeGrouped("module", EMBED);
        assertThat(embed[0]).isCloseTo(4 / 3f, within(1e-6f));
        assertThat(embed[1]).isCloseTo(2f, within(1e-6f));
    }

    @Test
    void varmLayerGranularitySumsALayersTensorsAndGivesEqualWeightsOutsideTheLayers() {
        // layer 0 = q + k + up0: t1 1 + 0 + 2 = 3, t2 2 + 1 + 0 = 3 -> equal
        assertThat(mergeGrouped("layer", Q)).containsExactly(0.5f, 1.5f);
        // layer 1 = up1: 0.5 and 0.5 -> equal
        assertThat(mergeGrouped("layer", UP1)).containsExactly(1f, 0f);
        // outside the layers: equal, whatever the variations
        assertThat(mergeGrouped("layer", EMBED)).containsExactly(1f, 2f);
    }

    @Test
    void varmModelGranularityDividesTheWholeModelsSumByItsElementCount() {
        // sums of d^2: t1 2 + 0 + 4 + 1 + 4 = 11, t2 4 + 2 + 0 + 1 + 8 = 15 (the element count cancels)
        float[] q = mergeGrouped("model", Q);
        assertThat(q[0]).isCloseTo(11 / 26f, within(1e-6f));
        assertThat(q[1]).isCloseTo(11 / 26f + 2 * 15 / 26f, within(1e-6f));
    }

    @Test
    void varmPrepareReadsNothingAtParameterGranularity() {
        MergeMethod varm = MergeMethods.get("varm");
        TensorParams params = TestInputs.withDefaults(varm.parameters(), Map.of());
        TensorView view = new TensorView(Q, List.of("pivot", "t1"), 0, params, () -> {
            throw new AssertionError("read at parameter granularity");
        });
        assertThat(varm.prepare(List.of(view))).isSameAs(varm);
    }

    @Test
    void varmModuleAndLayerNamesFollowTheAuthorsScript() {
        assertThat(VarmMerge.moduleOf("model.layers.3.self_attn.o_proj.weight")).isEqualTo("model.layers.3.self_attn");
        assertThat(VarmMerge.moduleOf("model.layers.3.post_attention_layernorm.weight"))
                .isEqualTo("model.layers.3.post_attention_layernorm");
        assertThat(VarmMerge.moduleOf("lm_head.weight")).isEqualTo("lm_head.weight");
        assertThat(VarmMerge.layerOf("model.layers.12.mlp.down_proj.weight")).isEqualTo("12");
        assertThat(VarmMerge.layerOf("model.norm.weight")).isNull();
    }

    @Test
    void aStringParameterOutsideItsChoicesIsAProblemListingThem() {
        ParameterDef g = MergeMethods.get("varm").parameters().get(0);
        assertThat(g.check("blocks")).isEqualTo(
                "parameter 'granularity' = 'blocks' is not one of parameter, element, module, layer, model");
        assertThat(g.check("layer")).isNull();
        assertThat(g.check(1.0)).contains("must be a string");
    }
}
