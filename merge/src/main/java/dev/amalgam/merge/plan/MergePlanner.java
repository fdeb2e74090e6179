package dev.amalgam.merge.plan;

import dev.amalgam.merge.arch.Architecture;
import dev.amalgam.merge.arch.WeightInfo;
import dev.amalgam.merge.config.DtypeNames;
import dev.amalgam.merge.config.MergeConfig;
import dev.amalgam.merge.config.MergeConfigException;
import dev.amalgam.merge.config.OutputSlice;
import dev.amalgam.merge.config.ParameterSetting;
import dev.amalgam.merge.config.SliceSource;
import dev.amalgam.merge.config.TokenEmbedding;
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
    /** The module being planned (the family itself for a family of one module). */
    private Architecture arch;
    /** The reference model's family, all its modules. */
    private Architecture family;
    private String refName;
    /** Tensors of the reference model that are written (the others are reported as dropped). */
    private final Set<String> used = new java.util.HashSet<>();
    /** Optional output tensors merged from only the sources that store them. */
    private final Set<String> optionalSubsets = new java.util.TreeSet<>();
    /** Output tensors whose rows are indexed by token. */
    private final Set<String> embeddings = new java.util.HashSet<>();
    private UnionTokenizer union;
    private boolean unionFailed;
    /** The tokenizer source's tokenizer plus the new tokens of {@code tokenizer.tokens}, built once; or null. */
    private UnionTokenizer extendedDonor;
    /** Whether the module being planned is in the {@code models:} form (its slices cover all layers). */
    private boolean modelsForm;
    /** The parameters of the module being planned ({@code modules.NAME.parameters}; empty in the other forms). */
    private Map<String, ParameterSetting> moduleParams = Map.of();
    /** Where the module's slices are in the config, for messages: empty, or {@code modules.NAME.}. */
    private String slicesAt = "";

    /** One module to plan: the family's module and how the config merges it. */
    private record ModuleInput(Architecture.Module module, String configName, List<OutputSlice> slices,
                               boolean modelsForm, Map<String, ParameterSetting> parameters) {
    }

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
        List<OutputSlice> slices = cfg.allSlices();
        refName = cfg.baseModel() != null ? cfg.baseModel() : slices.get(0).sources().get(0).model();
        HfModelDir ref = models.get(refName);
        String archName = architectureName(ref);
        arch = architecture(refName, ref, archName);
        if (arch == null) {
            return null;
        }
        Set<String> merged = cfg.mergedModels();
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
        DType dtype = Optional.ofNullable(DtypeNames.parse(cfg.outDtype()))
                .or(() -> Optional.ofNullable(DtypeNames.parse(cfg.dtype()))).orElse(ref.dominantDtype());
        String tokenizerModel = tokenizerModel(slices, refName);
        family = arch;
        List<ModuleInput> moduleInputs = moduleInputs(archName);
        if (moduleInputs == null) {
            return null;
        }
        // mergekit's plan, module after module (each with its own layer count and layer index from 0): the
        // module's weights before its layers (from the first slice), each output layer's weights from its slice's
        // source layers, the weights after the layers (from the last slice). In the models form every module is
        // merged from all the models; in the modules form each listed module as its entry says. Tensors outside
        // these lists are not written.
        List<PlannedTensor> out = new ArrayList<>();
        List<WeightInfo> outer = new ArrayList<>();
        Map<String, Integer> moduleLayers = new java.util.LinkedHashMap<>();
        int mainLayers = -1;
        for (ModuleInput input : moduleInputs) {
            arch = input.module().layout();
            modelsForm = input.modelsForm();
            moduleParams = input.parameters();
            slicesAt = cfg.usesModules() ? "modules." + input.configName() + "." : "";
            int before = problems.size();
            int refLayers = numLayers(refName, ref);
            List<OutputSlice> moduleSlices = expandSlices(input.slices(), refLayers);
            if (problems.size() > before) {
                // the loops below do work per layer of the slices: a layer count or range that does not fit the
                // models must not size them (other problems so far are reported with the rest)
                arch = family;
                return null;
            }
            int outLayers = planModule(out, outer, moduleSlices, dtype, tokenizerModel, ref);
            if (outLayers < 0) {
                arch = family;
                return null;
            }
            moduleLayers.put(input.module().name(), outLayers);
            if (mainLayers < 0 && !arch.layerWeights().isEmpty()) {
                mainLayers = outLayers;
            }
        }
        arch = family;
        for (String name : new java.util.TreeSet<>(ref.tensorNames())) {
            if (arch.passthroughPrefixes().stream().anyMatch(name::startsWith)) {
                TensorInfo info = ref.info(name);
                used.add(name);
                out.add(new PlannedTensor(name, info.shape(), info.dtype(), false,
                        List.of(TensorInput.whole(refName, name)), -1, new TensorParams(Map.of()), List.of(
                        new TensorParams(Map.of())), 0L));
            }
        }
        // what the layout has no name for (a tensor it names but the slices take from another model, or from
        // layers no slice selects, is not "outside the layout")
        Set<String> named = layoutNames(ref);
        List<String> dropped = ref.tensorNames().stream().filter(n -> !used.contains(n) && !named.contains(n))
                .sorted().toList();
        if (!dropped.isEmpty()) {
            warnings.add(dropped.size() + " tensors of '" + refName + "' are not in the " + describe(arch)
                    + " layout and are not written (as mergekit): " + String.join(", ", dropped.subList(0,
                    Math.min(5, dropped.size()))) + (dropped.size() > 5 ? ", ..." : ""));
        }
        if (!optionalSubsets.isEmpty()) {
            warnings.add(optionalSubsets.size() + " optional tensors are merged from only the models that store them"
                    + " (as mergekit): " + String.join(", ", optionalSubsets.stream().limit(5).toList())
                    + (optionalSubsets.size() > 5 ? ", ..." : ""));
        }
        Optional<WeightInfo> head = outer.stream().filter(w -> w.isEmbed() && !w.tiedNames().isEmpty()).findFirst();
        boolean tied = head.isPresent() && out.stream().noneMatch(p -> p.name().equals(head.get().name()));
        JsonNode tieKey = ref.config().get("tie_word_embeddings");
        if (!tied && head.isPresent() && tieKey != null && tieKey.asBoolean(false)) {
            warnings.add(head.get().name() + " is written (a model has an untied head) while config.json keeps '"
                    + refName + "'s tie_word_embeddings: true, as mergekit does; loaders that honour it tie the head"
                    + " to the input embedding");
        }
        long vocab = out.stream().filter(p -> embeddings.contains(p.name())).map(p -> p.shape()[0])
                .findFirst().orElse(-1L);
        return new MergePlan(method, arch, refName, tokenizerModel, out, Math.max(mainLayers, 0), vocab, tied, dtype,
                warnings, union != null ? union : extendedDonor, moduleLayers);
    }

    /** Every tensor name the family's layout gives the reference model: each module's weights, aliases, tied names. */
    private Set<String> layoutNames(HfModelDir ref) {
        Set<String> res = new java.util.HashSet<>();
        for (Architecture.Module mod : family.modules()) {
            Architecture a = mod.layout();
            int n = numLayers(a, refName, ref);
            List<WeightInfo> all = new ArrayList<>(a.preWeights(n));
            all.addAll(a.postWeights(n));
            try {
                for (int i = 0; i < n; i++) {
                    all.addAll(a.layerWeights(i, n, ref.config()));
                }
            } catch (IllegalArgumentException e) {
                // an expert count the config lacks is a problem of the plan itself, reported there
            }
            all.forEach(w -> {
                res.addAll(w.names());
                res.addAll(w.tiedNames());
            });
        }
        return res;
    }

    /**
     * The modules to plan, in the family's order, as mergekit's {@code normalize_config} sees the config: the
     * {@code models:} form merges every module from all the models; top-level {@code slices:} apply only to a family
     * of one module; the {@code modules:} form plans the modules it names (by name or alias), each from its own
     * entry, and, as in mergekit, writes nothing of a module it leaves out (a warning names it). Null after a problem.
     */
    private List<ModuleInput> moduleInputs(String archName) {
        List<Architecture.Module> all = family.modules();
        String names = String.join(", ", all.stream().map(Architecture.Module::name).toList());
        if (!cfg.usesModules()) {
            if (!cfg.usesModels() && all.size() > 1) {
                problems.add("'" + refName + "' is " + archName + ", whose family (" + family.source() + ") has "
                        + all.size() + " modules (" + names + "): top-level slices apply to a family of one module"
                        + " (as in mergekit); use models, or modules with slices for each module");
                return null;
            }
            return all.stream().map(m -> new ModuleInput(m, m.name(), cfg.asSlices(), cfg.usesModels(), Map.of()))
                    .toList();
        }
        Map<Architecture.Module, ModuleInput> chosen = new java.util.LinkedHashMap<>();
        boolean failed = false;
        for (Map.Entry<String, dev.amalgam.merge.config.OutputModule> e : cfg.modules().entrySet()) {
            Architecture.Module m = all.stream().filter(x -> x.answersTo(e.getKey())).findFirst().orElse(null);
            if (m == null) {
                problems.add("modules." + e.getKey() + ": '" + refName + "' (" + archName + ", family "
                        + family.source() + ") has no module '" + e.getKey() + "'; its modules: " + names);
                failed = true;
            } else if (chosen.containsKey(m)) {
                problems.add("modules." + e.getKey() + ": module '" + m.name() + "' is already given as modules."
                        + chosen.get(m).configName());
                failed = true;
            } else {
                dev.amalgam.merge.config.OutputModule def = e.getValue();
                chosen.put(m, new ModuleInput(m, e.getKey(), def.asSlices(cfg.baseModel()), def.usesModels(),
                        def.parameters()));
            }
        }
        if (failed) {
            return null;
        }
        List<String> left = all.stream().filter(m -> !chosen.containsKey(m)).map(Architecture.Module::name).toList();
        if (!left.isEmpty()) {
            warnings.add("modules: " + String.join(", ", left) + (left.size() == 1 ? " is" : " are")
                    + " not listed, so none of " + (left.size() == 1 ? "its" : "their")
                    + " tensors are written (as mergekit)");
        }
        return all.stream().filter(chosen::containsKey).map(chosen::get).toList();
    }

    /**
     * Plans the current module ({@link #arch}) from its slices; returns its output layer count, or -1 after a
     * problem that stops planning.
     */
    private int planModule(List<PlannedTensor> out, List<WeightInfo> outer, List<OutputSlice> slices, DType dtype,
                           String tokenizerModel, HfModelDir ref) {
        int outLayers = slices.stream().mapToInt(s -> s.sources().get(0).length()).sum();
        OutputSlice first = slices.get(0);
        OutputSlice last = slices.get(slices.size() - 1);
        for (WeightInfo w : arch.preWeights(outLayers)) {
            outer.add(w);
            plan(out, first, w, first.sources().stream().map(s -> w).toList(), 0.0, dtype, tokenizerModel);
        }
        int outLayer = 0;
        for (OutputSlice slice : slices) {
            int len = slice.sources().get(0).length();
            for (int idx = 0; idx < len; idx++) {
                double t = len > 1 ? (double) idx / (len - 1) : 1.0;
                List<WeightInfo> outWeights;
                List<List<WeightInfo>> inWeights = new ArrayList<>();
                try {
                    outWeights = arch.layerWeights(outLayer, outLayers, ref.config());
                    for (SliceSource src : slice.sources()) {
                        HfModelDir m = models.get(src.model());
                        inWeights.add(arch.layerWeights(src.layerStart() + idx, numLayers(src.model(), m), m.config()));
                    }
                } catch (IllegalArgumentException e) {
                    problems.add(e.getMessage());
                    return -1;
                }
                for (int j = 0; j < inWeights.size(); j++) {
                    if (inWeights.get(j).size() != outWeights.size()) {
                        problems.add("model '" + slice.sources().get(j).model() + "' has " + arch.numExperts(
                                models.get(slice.sources().get(j).model()).config()) + " experts per layer but '"
                                + refName + "' has " + arch.numExperts(ref.config()));
                        return -1;
                    }
                }
                for (int k = 0; k < outWeights.size(); k++) {
                    final int kk = k;
                    plan(out, slice, outWeights.get(k), inWeights.stream().map(l -> l.get(kk)).toList(), t, dtype,
                            tokenizerModel);
                }
                outLayer++;
            }
        }
        for (WeightInfo w : arch.postWeights(outLayers)) {
            outer.add(w);
            plan(out, last, w, last.sources().stream().map(s -> w).toList(), 0.0, dtype, tokenizerModel);
        }
        return outLayers;
    }

    /**
     * The family file of the reference model's architecture, else a layout inferred from the tensor names of the
     * merged models (as mergekit's referenced models: a tokenizer donor only is not read).
     */
    private Architecture architecture(String refName, HfModelDir ref, String archName) {
        Optional<Architecture> known = Architecture.forConfig(ref.config());
        if (known.isPresent()) {
            return known.get();
        }
        Map<String, Set<String>> names = new java.util.LinkedHashMap<>();
        Set<String> merged = cfg.mergedModels();
        models.forEach((k, m) -> {
            if (merged.contains(k)) {
                names.put(k, m.tensorNames());
            }
        });
        Map<String, long[]> shapes = new HashMap<>();
        ref.tensorNames().forEach(n -> shapes.put(n, ref.info(n).shape()));
        try {
            Architecture a = Architecture.infer(archName, names, shapes, ref.config());
            String what = a.submodules().isEmpty()
                    ? a.inferredLayers() + " layers, " + a.layerWeights().size() + " tensors per layer, "
                    + a.preWeights().size() + " outside the layers"
                    : a.submodules().size() + " modules: " + String.join(", ", a.submodules().stream()
                    .map(m -> "'" + m.name() + "' (" + m.layout().inferredLayers() + " layers, "
                            + m.layout().layerWeights().size() + " tensors per layer, "
                            + m.layout().preWeights().size() + " outside the layers)").toList());
            warnings.add("architecture '" + archName + "' has no family file; its layout was inferred from the tensor"
                    + " names (" + what + ")");
            return a;
        } catch (IllegalArgumentException e) {
            problems.add("model '" + refName + "': " + e.getMessage() + "; architectures with a family file: "
                    + String.join(", ", Architecture.supported()));
            return null;
        }
    }

    private static String describe(Architecture a) {
        return a.isInferred() ? "inferred" : a.modelType() + " (" + a.source() + ")";
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
                if (modelsForm) {
                    if (layers != refLayers) {
                        problems.add("model '" + src.model() + "' has " + layers + " layers but the reference has "
                                + refLayers + "; use slices to merge models of different depth");
                    }
                    src = new SliceSource(src.model(), 0, refLayers, src.parameters());
                } else if (src.layerEnd() > layers) {
                    problems.add(slicesAt + "slices[" + s + "]: layer_range [" + src.layerStart() + ", " + src.layerEnd()
                            + "] exceeds the " + layers + " layers of '" + src.model() + "'");
                }
                sources.add(src);
            }
            if (base != null && sources.stream().noneMatch(x -> x.model().equals(base))) {
                if (modelsForm) {
                    sources.add(new SliceSource(base, 0, refLayers, Map.of()));
                } else {
                    problems.add(slicesAt + "slices[" + s + "]: base_model '" + base + "' must be one of the slice's sources");
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

    /** The tokenizer source: base (else the reference model) for base and union, else the named model, merged or not. */
    private String tokenizerModel(List<OutputSlice> slices, String refName) {
        String src = cfg.tokenizerSource();
        if (src == null || src.equals("base") || src.equals("union")) {
            return cfg.baseModel() != null ? cfg.baseModel() : refName;
        }
        return src;
    }

    /**
     * Plans one output weight from the matching weight of each source, as mergekit's {@code plan_tensor}: an
     * optional weight that no source stores (under its name or aliases) is skipped; a source that ties it reads
     * its tied name instead. Per-model parameters see the input weight's name (filters match it), global ones the
     * output name.
     */
    private void plan(List<PlannedTensor> out, OutputSlice slice, WeightInfo outWeight, List<WeightInfo> inWeights,
                      double t, DType dtype, String tokenizerModel) {
        String outName = outWeight.name();
        List<String> resolved = new ArrayList<>();
        boolean anyStored = false;
        for (int j = 0; j < slice.sources().size(); j++) {
            HfModelDir m = models.get(slice.sources().get(j).model());
            WeightInfo w = inWeights.get(j);
            String name = w.names().stream().filter(m::hasTensor).findFirst().orElse(null);
            anyStored |= name != null;
            if (name == null) {
                name = w.tiedNames().stream().filter(m::hasTensor).findFirst().orElse(null);
            }
            resolved.add(name);
        }
        if (outWeight.optional() && !anyStored) {
            return;
        }
        String base = baseOf(slice);
        List<TensorInput> inputs = new ArrayList<>();
        List<TensorParams> modelParams = new ArrayList<>();
        List<TensorInfo> infos = new ArrayList<>();
        int baseIndex = -1;
        boolean missing = false;
        List<String> without = new ArrayList<>();
        for (int j = 0; j < slice.sources().size(); j++) {
            SliceSource src = slice.sources().get(j);
            HfModelDir m = models.get(src.model());
            String name = resolved.get(j);
            if (name == null && outWeight.optional() && !src.model().equals(base)) {
                // mergekit's GatherTensors leaves a missing optional tensor out: the models that have it are merged
                without.add(src.model());
                continue;
            }
            if (name == null) {
                problems.add("model '" + src.model() + "' has no tensor '" + inWeights.get(j).name() + "'"
                        + (outWeight.optional() ? " (optional, but other models of the slice have it; the base model"
                        + " must have it to merge it, mergekit fails too)" : ""));
                missing = true;
                continue;
            }
            if (src.model().equals(refModel())) {
                used.add(name);
            }
            boolean isBase = src.model().equals(base);
            if (isBase && baseIndex < 0) {
                baseIndex = inputs.size();
            }
            inputs.add(TensorInput.whole(src.model(), name));
            infos.add(m.info(name));
            modelParams.add(resolveModelParams(src, slice, inWeights.get(j).name(), t, isBase));
        }
        if (missing) {
            return;
        }
        if (!without.isEmpty()) {
            long others = inputs.stream().map(TensorInput::model).distinct().filter(x -> !x.equals(base)).count();
            Optional<String> wrong = method.checkInputs((int) others, baseIndex >= 0);
            if (wrong.isPresent()) {
                problems.add("tensor '" + outName + "' (optional) is missing from " + String.join(", ", without)
                        + " and cannot be merged from the other models alone: " + wrong.get());
                return;
            }
            optionalSubsets.add(outName);
        }
        TensorInfo first = infos.get(0);
        long[] shape = first.shape();
        boolean embedding = outWeight.isEmbed();
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
        if (embedding) {
            embeddings.add(outName);
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
            // mergekit's output vocabulary is the tokenizer's (tokens at ids the model has rows for), so embedding
            // rows beyond the tokenizer's length (padding) are not kept
            Optional<Map<String, Integer>> vocab = vocab(tokenizerModel);
            long donorRows = donorRows(tokenizerModel, outName);
            if (donorRows < 0) {
                if (vocab.isEmpty()) {
                    problems.add(outName + ": tokenizer_source '" + tokenizerModel + "' has neither " + outName
                            + " nor a tokenizer.json to size the vocabulary");
                    return null;
                }
                // a donor without these tensors (another architecture): one row per token id of its tokenizer
                donorRows = vocab.get().values().stream().mapToLong(id -> id + 1L).max().orElse(0);
            }
            long embedRows = donorRows;
            target = vocab.map(v -> {
                Map<String, Integer> kept = new HashMap<>();
                v.forEach((tok, id) -> {
                    if (id >= 0 && id < embedRows) {
                        kept.put(tok, id);
                    }
                });
                return kept;
            });
            rows = target.map(v -> v.values().stream().mapToLong(i -> i + 1L).max().orElse(0)).orElse(embedRows);
            if (!cfg.tokens().isEmpty()) {
                if (target.isEmpty()) {
                    problems.add(outName + ": tokenizer.tokens needs a tokenizer.json in '" + tokenizerModel + "'");
                    return null;
                }
                Map<String, Integer> kept = target.get();
                // mergekit's add_tokens on the source's tokenizer: new tokens appended, the others marked as added
                if (extendedDonor == null) {
                    extendedDonor = UnionTokenizer.ofDonor(models.get(tokenizerModel), kept)
                            .withAddedTokens(cfg.tokens().keySet());
                    long added = cfg.tokens().keySet().stream().filter(t -> !kept.containsKey(t)).count();
                    if (added > 0) {
                        warnings.add("tokenizer.tokens: " + added + " tokens added to the tokenizer of '"
                                + tokenizerModel + "'");
                    }
                }
                target = Optional.of(extendedDonor.vocab());
                rows = extendedDonor.size();
            }
        }
        long realRows = rows;
        Integer multiple = cfg.padToMultipleOf();
        if (multiple != null && rows % multiple != 0) {
            rows += multiple - rows % multiple;
        }
        boolean padded = rows > realRows;
        int[][] maps = new int[inputs.size()][];
        boolean mapped = false;
        for (int i = 0; i < inputs.size(); i++) {
            TensorInput in = inputs.get(i);
            long inRows = infos.get(i).shape()[0];
            Optional<Map<String, Integer>> v = vocab(in.model());
            if (!isUnion && !padded && cfg.tokens().isEmpty() && (v.equals(target) || v.isPresent() && target.isPresent()
                    && sameIds(target.get(), v.get())) && inRows >= rows) {
                continue; // same vocabulary: the first rows line up
            }
            if (v.isEmpty() || target.isEmpty()) {
                problems.add(outName + ": cannot align the vocabulary of '" + in.model() + "' (" + inRows
                        + " rows) to '" + tokenizerModel + "' (" + rows + " rows) without tokenizer.json in both");
                return null;
            }
            String[] tokens = TokenVocab.byId(target.get(), (int) realRows);
            int[] map = new int[(int) rows];
            java.util.Arrays.fill(map, -1);
            int unmapped = 0;
            for (int r = 0; r < realRows; r++) {
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
        if (padded) {
            warnings.add(outName + ": " + (rows - realRows) + " padding rows (tokenizer.pad_to_multiple_of " + multiple
                    + "), each the mean of the model's " + realRows + " token rows");
        }
        RowDefaults defaults = null;
        if (mapped) {
            int[][] full = new int[maps.length][];
            for (int i = 0; i < maps.length; i++) {
                full[i] = maps[i] != null ? maps[i] : java.util.stream.IntStream.range(0, (int) rows).toArray();
            }
            Map<Integer, int[][]> overrides = tokenOverrides(outName, inputs, infos, target.get(), full);
            if (overrides == null) {
                return null;
            }
            defaults = RowDefaults.of(full, baseIndex, overrides);
        }
        for (int i = 0; i < inputs.size(); i++) {
            TensorInput in = inputs.get(i);
            inputs.set(i, new TensorInput(in.model(), in.tensorName(), rows, maps[i], maps[i] == null ? null : defaults,
                    padded ? (int) realRows : -1));
        }
        return new long[]{rows, cols};
    }

    /**
     * The rows {@code tokenizer.tokens} sets, as mergekit's {@code PermutedEmbeddings}: per output row, the (input,
     * source row) entries its default row averages (one entry, or none for a zero row). A forced token's row is
     * removed from every input's map, so every model takes the configured row. Null after a problem.
     */
    private Map<Integer, int[][]> tokenOverrides(String outName, List<TensorInput> inputs, List<TensorInfo> infos,
                                                 Map<String, Integer> target, int[][] full) {
        Map<Integer, int[][]> overrides = new HashMap<>();
        List<Integer> forced = new ArrayList<>();
        boolean ok = true;
        for (Map.Entry<String, TokenEmbedding> e : cfg.tokens().entrySet()) {
            Integer row = target.get(e.getKey());
            if (row == null || row >= full[0].length) {
                continue; // not an output token (cannot happen: tokenizer.tokens are added to the tokenizer)
            }
            TokenEmbedding t = e.getValue();
            String where = "tokenizer.tokens[" + e.getKey() + "] (" + outName + ")";
            if (t.kind() == TokenEmbedding.Kind.ZERO) {
                overrides.put(row, new int[0][]);
            } else {
                int input = -1;
                for (int i = 0; i < inputs.size() && input < 0; i++) {
                    input = inputs.get(i).model().equals(t.model()) ? i : -1;
                }
                if (input < 0) {
                    problems.add(where + ": model '" + t.model() + "' is not an input of this tensor");
                    ok = false;
                    continue;
                }
                int src;
                if (t.kind() == TokenEmbedding.Kind.MODEL) {
                    src = full[input][row];
                    if (src < 0) {
                        problems.add(where + ": token not found in model '" + t.model() + "'");
                        ok = false;
                        continue;
                    }
                } else {
                    Integer id = t.tokenId();
                    if (id == null) {
                        id = vocab(t.model()).map(v -> v.get(t.token())).orElse(null);
                        if (id == null) {
                            problems.add(where + ": token " + t.token() + " not found in model '" + t.model() + "'");
                            ok = false;
                            continue;
                        }
                    }
                    long inRows = infos.get(input).shape()[0];
                    if (id < 0 || id >= inRows) {
                        problems.add(where + ": token id " + id + " is out of range for model '" + t.model()
                                + "' (" + inRows + " rows)");
                        ok = false;
                        continue;
                    }
                    src = id;
                }
                overrides.put(row, new int[][]{{input, src}});
            }
            if (t.force()) {
                forced.add(row);
            }
        }
        for (int row : forced) {
            for (int[] map : full) {
                map[row] = -1;
            }
        }
        return ok ? overrides : null;
    }

    /** Whether every token of the target has the same id in the model (the model may have more tokens). */
    private static boolean sameIds(Map<String, Integer> target, Map<String, Integer> model) {
        for (Map.Entry<String, Integer> e : target.entrySet()) {
            if (!e.getValue().equals(model.get(e.getKey()))) {
                return false;
            }
        }
        return true;
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
            rows.put(m, embedRows(m));
        }
        union = UnionTokenizer.build(order, models, rows);
        int unionSize = union.size();
        warnings.add("tokenizer_source union: " + union.appendedCount() + " tokens added to the tokenizer of '"
                + tokenizerModel + "' (" + unionSize + " in all)");
        if (!cfg.tokens().isEmpty()) {
            union = union.withAddedTokens(cfg.tokens().keySet()); // mergekit's add_tokens after the union
            if (union.size() > unionSize) {
                warnings.add("tokenizer.tokens: " + (union.size() - unionSize) + " tokens added to the union");
            }
        }
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
                boolean addedBase = modelsForm && src.model().equals(cfg.baseModel())
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

    /** mergekit's lookup order: the source's parameters, then the slice's, the module's, the top-level ones. */
    private Object lookup(String name, Map<String, ParameterSetting> own, OutputSlice slice, String tensor, double t) {
        for (Map<String, ParameterSetting> level : List.of(own, slice.parameters(), moduleParams, cfg.parameters())) {
            ParameterSetting s = level.get(name);
            Object v = s == null ? null : s.evaluate(tensor, t);
            if (v != null) {
                return v;
            }
        }
        return null;
    }

    /** The model's layer count: config.json's, when it is a plausible one; else the layers its tensors number. */
    private int numLayers(String ref, HfModelDir m) {
        return numLayers(arch, ref, m);
    }

    private int numLayers(Architecture a, String ref, HfModelDir m) {
        if (a.isInferred()) {
            return a.inferredLayers();
        }
        if (a.overrideLayers() >= 0) {
            return a.overrideLayers();
        }
        JsonNode n = a.numLayersValue(m.config());
        if (n != null && n.isIntegralNumber()) {
            if (!n.canConvertToInt() || n.intValue() < 1 || n.intValue() > MergeConfig.MAX_OUTPUT_LAYERS) {
                problems.add("model '" + ref + "': config.json " + a.numLayersKey(m.config()) + " " + n
                        + " is not between 1 and " + MergeConfig.MAX_OUTPUT_LAYERS);
                return 0;
            }
            return n.intValue();
        }
        return a.countLayers(m.tensorNames());
    }

    /**
     * The embedding weights before the layers of every module of the family (the input embedding first), resolved
     * for the layer counts of {@code layersOf}.
     */
    private List<WeightInfo> embeddingsBeforeLayers(String layersOf) {
        List<WeightInfo> res = new ArrayList<>();
        for (Architecture.Module mod : family.modules()) {
            for (WeightInfo w : mod.layout().preWeights(numLayers(mod.layout(), layersOf, models.get(layersOf)))) {
                if (w.isEmbed()) {
                    res.add(w);
                }
            }
        }
        return res;
    }

    /** Rows of the tokenizer donor's {@code outName} tensor or, failing that, its input embedding; -1 when it has neither. */
    private long donorRows(String model, String outName) {
        HfModelDir m = models.get(model);
        if (m.hasTensor(outName)) {
            return m.info(outName).shape()[0];
        }
        // the reference's layer count: a donor of another architecture need not have a config this layout reads
        for (WeightInfo w : embeddingsBeforeLayers(refName)) {
            for (String n : w.names()) {
                if (m.hasTensor(n)) {
                    return m.info(n).shape()[0];
                }
            }
        }
        return -1;
    }

    /** Rows of a model's input embedding (the family's first embedding weight before the layers). */
    private long embedRows(String model) {
        HfModelDir m = models.get(model);
        for (WeightInfo w : embeddingsBeforeLayers(model)) {
            for (String n : w.names()) {
                if (m.hasTensor(n)) {
                    return m.info(n).shape()[0];
                }
            }
        }
        throw new IllegalStateException("model '" + model + "' has no input embedding in the " + describe(family)
                + " layout");
    }

    private String refModel() {
        return refName;
    }

    private static String architectureName(HfModelDir m) {
        JsonNode a = m.config().get("architectures");
        return a != null && a.isArray() && !a.isEmpty() ? a.get(0).asString() : "(no architectures in config.json)";
    }
}
