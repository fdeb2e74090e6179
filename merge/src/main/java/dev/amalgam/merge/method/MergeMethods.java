package dev.amalgam.merge.method;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Registry of the merge methods by config name. {@link #get(String)} fails with the list of known names.
 */
public final class MergeMethods {

    private static final Map<String, MergeMethod> METHODS = build();

    private MergeMethods() {
    }

    private static Map<String, MergeMethod> build() {
        List<MergeMethod> all = List.of(
                new LinearMerge(), new SlerpMerge(), new NuSlerpMerge(), new MultiSlerpMerge(), new KarcherMerge(),
                gta("task_arithmetic", "https://arxiv.org/abs/2212.04089", false, null, false, false),
                gta("ties", "https://arxiv.org/abs/2306.01708", true, Sparsification.MAGNITUDE, true, false),
                gta("dare_linear", "https://arxiv.org/abs/2311.03099", false, Sparsification.RANDOM, false, true),
                gta("dare_ties", "https://arxiv.org/abs/2311.03099", true, Sparsification.RANDOM, false, true),
                gta("breadcrumbs", "https://arxiv.org/abs/2312.06795", false, Sparsification.MAGNITUDE_OUTLIERS, false, false),
                gta("breadcrumbs_ties", "https://arxiv.org/abs/2312.06795", true, Sparsification.MAGNITUDE_OUTLIERS, false,
                        false),
                gta("della", "https://arxiv.org/abs/2406.11617", true, Sparsification.DELLA_MAGPRUNE, true, true),
                gta("della_linear", "https://arxiv.org/abs/2406.11617", false, Sparsification.DELLA_MAGPRUNE, false, true),
                new ModelStockMerge(), new SceMerge(), new NearSwapMerge(), new ArceeFusionMerge(), new PassthroughMerge(),
                new VarmMerge(), new RamMerge(false), new RamMerge(true));
        Map<String, MergeMethod> map = new LinkedHashMap<>();
        for (MergeMethod m : all) {
            map.put(m.name(), m);
        }
        return Map.copyOf(map);
    }

    private static MergeMethod gta(String name, String ref, boolean consensus, Sparsification s, boolean normalize,
                                   boolean rescale) {
        return new GeneralizedTaskArithmeticMerge(name, ref, consensus, s, normalize, rescale);
    }

    /** The method registered under {@code name}; unknown names fail with the known ones listed. */
    public static MergeMethod get(String name) {
        MergeMethod m = METHODS.get(name);
        if (m == null) {
            throw new IllegalArgumentException("unknown merge_method '" + name + "'; known: " + String.join(", ", names()));
        }
        return m;
    }

    /** Whether a method of this name exists. */
    public static boolean exists(String name) {
        return METHODS.containsKey(name);
    }

    /** All method names, sorted. */
    public static Set<String> names() {
        return new java.util.TreeSet<>(METHODS.keySet());
    }
}
