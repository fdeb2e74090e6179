package dev.amalgam.merge.plan;

import dev.amalgam.merge.arch.Architecture;
import dev.amalgam.merge.config.DtypeNames;
import dev.amalgam.merge.config.MergeConfig;
import dev.amalgam.merge.config.MergeConfigException;
import dev.amalgam.merge.config.OutputSlice;
import dev.amalgam.merge.config.ParameterSetting;
import dev.amalgam.merge.config.SliceSource;
import dev.amalgam.merge.method.BasePolicy;
import dev.amalgam.merge.method.MergeMethod;
import dev.amalgam.merge.method.MergeMethods;
import dev.amalgam.merge.method.ParameterDef;
import dev.amalgam.merge.method.TensorParams;
import dev.amalgam.modelio.DType;
import dev.amalgam.modelio.HfModelDir;
import dev.amalgam.modelio.TensorInfo;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import tools.jackson.databind.JsonNode;

/**
 * Turns a config and the opened input models into a {@link MergePlan}, reading headers and config files only.
 * Every problem (missing tensors, shape mismatches, layer ranges, architectures, missing parameters) is
 * collected and thrown together as a {@link MergeConfigException}.
 */
public final class MergePlanner {

    private final MergeConfig cfg;
    private final MergeMethod method;
    private final Map<String, HfModelDir> models;
    private final long seed;
    private final Set<String> problems = new LinkedHashSet<>();
    private final List<String> warnings = new ArrayList<>();
    private final Map<String, Optional<Map<String, Integer>>> vocabs = new HashMap<>();
    private Architecture arch;
    private UnionTokenizer union;
    private boolean unionFailed;

    private MergePlanner(MergeConfig cfg, Map<String, HfModelDir> models, long seed) {
        this.cfg = cfg;
        this.method = MergeMethods.get(cfg.mergeMethod());
        this.models = models;
        this.seed = seed;
    }

    /**
     * Plans a merge.
     *
     * @param cfg    a config that passed {@link MergeConfig#validate()}
     * @param models every referenced model, opened, by reference
     * @param seed   merge seed (per-tensor seeds derive from it and the tensor name)
     * @throws MergeConfigException with every problem found
     */
    public static MergePlan plan(MergeConfig cfg, Map<String, HfModelDir> models, long seed) {
        MergePlanner p = new MergePlanner(cfg, models, seed);
        MergePlan plan = p.build();
        if (!p.problems.isEmpty()) {
            throw new MergeConfigException(List.copyOf(p.problems));
        }
        return plan;
    }

    private MergePlan build() {
        List<OutputSlice> slices = cfg.asSlices();
        String refName = cfg.baseModel() != null ? cfg.baseModel() : slices.get(0).sources().get(0).model();
        HfModelDir ref = models.get(refName);
        String archName = architectureName(ref);
        arch = Architecture.forName(archName).orElse(null);
        if (arch == null) {
            problems.add("model '" + refName + "' has architecture '" + archName + "', not supported; supported: "
                    + String.join(", ", Architecture.supported()));
            return null;
        }
        Set<String> merged = mergedModels(slices);
        for (Map.Entry<String, HfModelDir> e : models.entrySet()) {
            if (!merged.contains(e.getKey())) {
                continue; // a tokenizer donor only: mergekit reads just its tokenizer
            }
            String a = architectureName(e.getValue());
            if (!a.equals(archName)) {
                problems.add("model '" + e.getKey() + "' is " + a + " but '" + refName + "' is " + archName
                        + "; models must share one architecture");
            }
            for (String key : List.of("hidden_size", "num_attention_heads", "num_key_value_heads", "intermediate_size")) {
                JsonNode a1 = ref.config().get(key);
                JsonNode b1 = e.getValue().config().get(key);
                if (a1 != null && b1 != null && !a1.equals(b1)) {
                    problems.add("model '" + e.getKey() + "' has " + key + " " + b1 + " but '" + refName + "' has " + a1);
                }
            }
        }
        int before = problems.size();
        int refLayers = numLayers(refName, ref);
        slices = expandSlices(slices, refLayers);
        if (problems.size() > before) {
            // the loops below do work per layer of the slices: a layer count or range that does not fit the models
            // must not size them (other problems so far, such as a hidden size mismatch, are reported with the rest)
            return null;
        }
        boolean tied = slices.get(slices.size() - 1).sources().stream()
                .allMatch(s -> !models.get(s.model()).hasTensor(arch.lmHead()));
        DType dtype = Optional.ofNullable(DtypeNames.parse(cfg.outDtype()))
                .or(() -> Optional.ofNullable(DtypeNames.parse(cfg.dtype()))).orElse(ref.dominantDtype());
        String tokenizerModel = tokenizerModel(slices, refName);

        List<PlannedTensor> out = new ArrayList<>();
        List<String> nonLayer = ref.tensorNames().stream().filter(n -> arch.layerOf(n) < 0).toList();
        for (String name : sortedNonLayer(nonLayer, true)) {
            plan(out, slices.get(0), name, name, -1, 0.0, dtype, tokenizerModel);
        }
        int outLayer = 0;
        for (OutputSlice slice : slices) {
            int len = slice.sources().get(0).length();
            for (int idx = 0; idx < len; idx++) {
                double t = len > 1 ? (double) idx / (len - 1) : 1.0;
                SliceSource first = slice.sources().get(0);
                for (String suffix : layerSuffixes(models.get(first.model()), first.layerStart() + idx)) {
                    plan(out, slice, arch.layerPrefix(outLayer) + suffix, suffix, idx, t, dtype, tokenizerModel);
                }
                outLayer++;
            }
        }
        List<String> post = new ArrayList<>(sortedNonLayer(nonLayer, false));
        post.remove(arch.lmHead());
        if (!tied) {
            post.add(arch.lmHead());
        }
        for (String name : post) {
            plan(out, slices.get(slices.size() - 1), name, name, -1, 0.0, dtype, tokenizerModel);
        }
        long vocab = out.stream().filter(p -> p.name().equals(arch.embedTokens())).map(p -> p.shape()[0])
                .findFirst().orElse(-1L);
        return new MergePlan(method, arch, refName, tokenizerModel, out, outLayer, vocab, tied, dtype, warnings, union);
    }

    /** The models form becomes one slice over all layers (base added as a source when not listed). */
    private List<OutputSlice> expandSlices(List<OutputSlice> slices, int refLayers) {
        List<OutputSlice> res = new ArrayList<>();
        for (int s = 0; s < slices.size(); s++) {
            OutputSlice slice = slices.get(s);
            String base = baseOf(slice);
            List<SliceSource> sources = new ArrayList<>();
            for (SliceSource src : slice.sources()) {
                int layers = numLayers(src.model(), models.get(src.model()));
                if (cfg.usesModels()) {
                    if (layers != refLayers) {
                        problems.add("model '" + src.model() + "' has " + layers + " layers but the reference has "
                                + refLayers + "; use slices to merge models of different depth");
                    }
                    src = new SliceSource(src.model(), 0, refLayers, src.parameters());
                } else if (src.layerEnd() > layers) {
                    problems.add("slices[" + s + "]: layer_range [" + src.layerStart() + ", " + src.layerEnd()
                            + "] exceeds the " + layers + " layers of '" + src.model() + "'");
                }
                sources.add(src);
            }
            if (base != null && sources.stream().noneMatch(x -> x.model().equals(base))) {
                if (cfg.usesModels()) {
                    sources.add(new SliceSource(base, 0, refLayers, Map.of()));
                } else {
                    problems.add("slices[" + s + "]: base_model '" + base + "' must be one of the slice's sources");
                }
            }
            res.add(new OutputSlice(sources, slice.baseModel(), slice.parameters()));
        }
        return res;
    }

    private String baseOf(OutputSlice slice) {
        if (method.basePolicy() == BasePolicy.IGNORED) {
            return null;
        }
        return slice.baseModel() != null ? slice.baseModel() : cfg.baseModel();
    }

    /** The models whose tensors are merged: every slice source and base model (not a tokenizer donor only). */
    private Set<String> mergedModels(List<OutputSlice> slices) {
        Set<String> merged = new LinkedHashSet<>();
        if (cfg.baseModel() != null) {
            merged.add(cfg.baseModel());
        }
        for (OutputSlice s : slices) {
            if (s.baseModel() != null) {
                merged.add(s.baseModel());
            }
            s.sources().forEach(src -> merged.add(src.model()));
        }
        return merged;
    }

    /** The tokenizer source: base (else the reference model) for base and union, else the named model, merged or not. */
    private String tokenizerModel(List<OutputSlice> slices, String refName) {
        String src = cfg.tokenizerSource();
        if (src == null || src.equals("base") || src.equals("union")) {
            return cfg.baseModel() != null ? cfg.baseModel() : refName;
        }
        return src;
    }

    private void plan(List<PlannedTensor> out, OutputSlice slice, String outName, String nameOrSuffix, int layerIdx,
                      double t, DType dtype, String tokenizerModel) {
        String base = baseOf(slice);
        List<TensorInput> inputs = new ArrayList<>();
        List<TensorParams> modelParams = new ArrayList<>();
        List<TensorInfo> infos = new ArrayList<>();
        int baseIndex = -1;
        for (SliceSource src : slice.sources()) {
            HfModelDir m = models.get(src.model());
            String name = layerIdx < 0 ? nameOrSuffix : arch.layerPrefix(src.layerStart() + layerIdx) + nameOrSuffix;
            if (name.equals(arch.lmHead()) && !m.hasTensor(name)) {
                name = arch.embedTokens(); // a tied model's head is its input embedding
            }
            if (!m.hasTensor(name)) {
                problems.add("model '" + src.model() + "' has no tensor '" + name + "'");
                continue;
            }
            boolean isBase = src.model().equals(base);
            if (isBase && baseIndex < 0) {
                baseIndex = inputs.size();
            }
            inputs.add(TensorInput.whole(src.model(), name));
            infos.add(m.info(name));
            modelParams.add(resolveModelParams(src, slice, outName, t, isBase));
        }
        if (inputs.size() != slice.sources().size()) {
            return;
        }
        TensorInfo first = infos.get(0);
        long[] shape = first.shape();
        boolean embedding = arch.isEmbedding(outName);
        if (embedding) {
            shape = alignVocab(outName, inputs, infos, tokenizerModel, baseIndex, slice);
            if (shape == null) {
                return;
            }
        } else {
            for (int i = 1; i < infos.size(); i++) {
                if (!Arrays.equals(infos.get(i).shape(), shape)) {
                    problems.add("tensor '" + outName + "': shape " + Arrays.toString(infos.get(i).shape()) + " in '"
                            + inputs.get(i).model() + "' differs from " + Arrays.toString(shape) + " in '"
                            + inputs.get(0).model() + "'");
                    return;
                }
            }
        }
        long numel = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        if (numel > Integer.MAX_VALUE - 8) {
            problems.add("tensor '" + outName + "' has " + numel + " elements, more than one merge buffer holds");
        }
        boolean floating = infos.stream().allMatch(i -> i.dtype().isFloatingPoint());
        TensorParams global = resolveGlobal(slice, outName, t);
        if (floating) {
            problems.addAll(method.checkParams(global, modelParams));
        }
        long tensorSeed = new SplittableRandom(seed ^ (outName.hashCode() * 0x9E3779B97F4A7C15L)).nextLong();
        out.add(new PlannedTensor(outName, shape, floating ? dtype : first.dtype(), floating, inputs, baseIndex, global,
                modelParams, tensorSeed));
    }

    /** Embedding rows: the common sub-matrix, or the tokenizer source's vocabulary with rows mapped by token. */
    private long[] alignVocab(String outName, List<TensorInput> inputs, List<TensorInfo> infos, String tokenizerModel,
                              int baseIndex, OutputSlice slice) {
        long cols = infos.get(0).shape()[1];
        for (int i = 0; i < infos.size(); i++) {
            if (infos.get(i).shape().length != 2 || infos.get(i).shape()[1] != cols) {
                problems.add("tensor '" + outName + "': shape " + Arrays.toString(infos.get(i).shape()) + " in '"
                        + inputs.get(i).model() + "' does not match hidden size " + cols);
                return null;
            }
        }
        if (cfg.tokenizerSource() == null) {
            long rows = infos.stream().mapToLong(i -> i.shape()[0]).min().orElseThrow();
            boolean differ = infos.stream().anyMatch(i -> i.shape()[0] != rows);
            if (differ) {
                warnings.add(outName + ": vocabulary sizes differ; using the common first " + rows + " rows");
                for (int i = 0; i < inputs.size(); i++) {
                    TensorInput in = inputs.get(i);
                    inputs.set(i, new TensorInput(in.model(), in.tensorName(), rows, null, null));
                }
            }
            return new long[]{rows, cols};
        }
        boolean isUnion = cfg.tokenizerSource().equals("union");
        Optional<Map<String, Integer>> target;
        long rows;
        if (isUnion) {
            UnionTokenizer u = union(slice, tokenizerModel);
            if (u == null) {
                return null;
            }
            target = Optional.of(u.vocab());
            rows = u.size();
        } else {
            HfModelDir src = models.get(tokenizerModel);
            target = vocab(tokenizerModel);
            if (src.hasTensor(outName) || src.hasTensor(arch.embedTokens())) {
                rows = src.info(src.hasTensor(outName) ? outName : arch.embedTokens()).shape()[0];
            } else if (target.isPresent()) {
                // a donor without these tensors (another architecture): one row per token id of its tokenizer
                rows = target.get().values().stream().mapToLong(id -> id + 1L).max().orElse(0);
            } else {
                problems.add(outName + ": tokenizer_source '" + tokenizerModel + "' has neither " + outName
                        + " nor a tokenizer.json to size the vocabulary");
                return null;
            }
        }
        int[][] maps = new int[inputs.size()][];
        boolean mapped = false;
        for (int i = 0; i < inputs.size(); i++) {
            TensorInput in = inputs.get(i);
            long inRows = infos.get(i).shape()[0];
            Optional<Map<String, Integer>> v = vocab(in.model());
            if (!isUnion && v.equals(target) && inRows >= rows) {
                continue; // same vocabulary: the first rows line up
            }
            if (v.isEmpty() || target.isEmpty()) {
                problems.add(outName + ": cannot align the vocabulary of '" + in.model() + "' (" + inRows
                        + " rows) to '" + tokenizerModel + "' (" + rows + " rows) without tokenizer.json in both");
                return null;
            }
            String[] tokens = TokenVocab.byId(target.get(), (int) rows);
            int[] map = new int[(int) rows];
            int unmapped = 0;
            for (int r = 0; r < rows; r++) {
                Integer id = tokens[r] == null ? null : v.get().get(tokens[r]);
                map[r] = id != null && id < inRows ? id : -1;
                unmapped += map[r] < 0 ? 1 : 0;
            }
            if (unmapped > 0) {
                warnings.add(outName + ": " + unmapped + " tokens are not in '" + in.model()
                        + "'; their rows come from the models that have them (mergekit's rule)");
            }
            maps[i] = map;
            mapped = true;
        }
        RowDefaults defaults = null;
        if (mapped) {
            int[][] full = new int[maps.length][];
            for (int i = 0; i < maps.length; i++) {
                full[i] = maps[i] != null ? maps[i] : java.util.stream.IntStream.range(0, (int) rows).toArray();
            }
            defaults = RowDefaults.of(full, baseIndex);
        }
        for (int i = 0; i < inputs.size(); i++) {
            TensorInput in = inputs.get(i);
            inputs.set(i, new TensorInput(in.model(), in.tensorName(), rows, maps[i], maps[i] == null ? null : defaults));
        }
        return new long[]{rows, cols};
    }

    /** The union tokenizer over the tokenizer base and the slice's models, built once. */
    private UnionTokenizer union(OutputSlice slice, String tokenizerModel) {
        if (union != null || unionFailed) {
            return union;
        }
        List<String> order = new ArrayList<>();
        order.add(tokenizerModel);
        slice.sources().forEach(s -> {
            if (!order.contains(s.model())) {
                order.add(s.model());
            }
        });
        Map<String, Long> rows = new HashMap<>();
        for (String m : order) {
            if (vocab(m).isEmpty()) {
                problems.add("tokenizer_source union: '" + m + "' has no tokenizer.json");
                unionFailed = true;
                return null;
            }
            rows.put(m, models.get(m).info(arch.embedTokens()).shape()[0]);
        }
        union = UnionTokenizer.build(order, models, rows);
        warnings.add("tokenizer_source union: " + union.appendedCount() + " tokens added to the tokenizer of '"
                + tokenizerModel + "' (" + union.size() + " in all)");
        return union;
    }

    private Optional<Map<String, Integer>> vocab(String model) {
        return vocabs.computeIfAbsent(model, m -> TokenVocab.read(models.get(m).dir()));
    }

    private TensorParams resolveModelParams(SliceSource src, OutputSlice slice, String tensor, double t,
                                            boolean isBase) {
        Map<String, Object> values = new HashMap<>();
        for (ParameterDef def : method.modelParameters()) {
            Object v = lookup(def.name(), src.parameters(), slice, tensor, t);
            if (v == null) {
                v = def.defaultValue();
            }
            if (v == null && def.required() && !(isBase && method.basePolicy() != BasePolicy.IGNORED)) {
                boolean addedBase = cfg.usesModels() && src.model().equals(cfg.baseModel())
                        && method.basePolicy() == BasePolicy.IGNORED;
                problems.add("missing required parameter '" + def.name() + "' for model '" + src.model() + "'"
                        + (addedBase ? " (base_model is merged as one more input, as mergekit does: give it a "
                        + def.name() + " in models or in the top-level parameters, or leave base_model out)" : ""));
            }
            if (v != null) {
                values.put(def.name(), v);
            }
        }
        return new TensorParams(values);
    }

    private TensorParams resolveGlobal(OutputSlice slice, String tensor, double t) {
        Map<String, Object> values = new HashMap<>();
        for (ParameterDef def : method.parameters()) {
            Object v = lookup(def.name(), Map.of(), slice, tensor, t);
            if (v == null) {
                v = def.defaultValue();
            }
            if (v == null && def.required()) {
                problems.add("missing required parameter '" + def.name() + "' for " + method.name());
            }
            if (v != null) {
                values.put(def.name(), v);
            }
        }
        return new TensorParams(values);
    }

    /** mergekit's lookup order: the source's parameters, then the slice's, then the top-level ones. */
    private Object lookup(String name, Map<String, ParameterSetting> own, OutputSlice slice, String tensor, double t) {
        for (Map<String, ParameterSetting> level : List.of(own, slice.parameters(), cfg.parameters())) {
            ParameterSetting s = level.get(name);
            Object v = s == null ? null : s.evaluate(tensor, t);
            if (v != null) {
                return v;
            }
        }
        return null;
    }

    private List<String> layerSuffixes(HfModelDir m, int layer) {
        String prefix = arch.layerPrefix(layer);
        List<String> suffixes = new ArrayList<>();
        for (String n : m.tensorNames()) {
            if (n.startsWith(prefix) && arch.layerOf(n) == layer) {
                suffixes.add(arch.suffixOf(n));
            }
        }
        List<String> known = arch.layerWeights();
        suffixes.sort(Comparator.comparingInt((String s) -> known.contains(s) ? known.indexOf(s) : known.size())
                .thenComparing(Comparator.naturalOrder()));
        return suffixes;
    }

    /** Non-layer tensors in file order: the family's pre (or post) weights first, then any others by name. */
    private List<String> sortedNonLayer(List<String> names, boolean pre) {
        List<String> res = new ArrayList<>();
        for (String n : pre ? arch.preWeights() : arch.postWeights()) {
            if (names.contains(n)) {
                res.add(n);
            }
        }
        if (!pre) {
            names.stream().filter(n -> !arch.preWeights().contains(n) && !arch.postWeights().contains(n)).sorted()
                    .forEach(res::add);
        }
        return res;
    }

    /** The model's layer count: config.json's, when it is a plausible one; else the layers its tensors number. */
    private int numLayers(String ref, HfModelDir m) {
        JsonNode n = m.config().get(arch.numLayersKey());
        if (n != null && n.isIntegralNumber()) {
            if (!n.canConvertToInt() || n.intValue() < 1 || n.intValue() > MergeConfig.MAX_OUTPUT_LAYERS) {
                problems.add("model '" + ref + "': config.json " + arch.numLayersKey() + " " + n + " is not between 1 and "
                        + MergeConfig.MAX_OUTPUT_LAYERS);
                return 0;
            }
            return n.intValue();
        }
        return (int) m.tensorNames().stream().mapToInt(arch::layerOf).distinct().filter(i -> i >= 0).count();
    }

    private static String architectureName(HfModelDir m) {
        JsonNode a = m.config().get("architectures");
        return a != null && a.isArray() && !a.isEmpty() ? a.get(0).asString() : "(no architectures in config.json)";
    }
}
