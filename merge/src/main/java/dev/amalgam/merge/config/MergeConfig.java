package dev.amalgam.merge.config;

import dev.amalgam.merge.method.BasePolicy;
import dev.amalgam.merge.method.MergeMethod;
import dev.amalgam.merge.method.MergeMethods;
import dev.amalgam.merge.method.ParameterDef;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A merge as mergekit's YAML describes it (the API accepts the same structure as JSON).
 *
 * <pre>{@code
 * MergeConfig cfg = MergeConfig.parseYaml("""
 *     merge_method: ties
 *     base_model: ./base
 *     models:
 *       - model: ./math
 *         parameters: {weight: 0.5, density: 0.5}
 *     dtype: bfloat16
 *     """);
 * }</pre>
 *
 * @param mergeMethod     method name (see {@link MergeMethods#names()})
 * @param baseModel       global base model reference, or null
 * @param models          {@code models:} form (empty when slices are given)
 * @param slices          {@code slices:} form (empty when models are given)
 * @param parameters      top-level parameters (global ones, and defaults for per-model ones)
 * @param dtype           compute/storage dtype name from the config ({@code bfloat16}...), or null
 * @param outDtype        output dtype name, or null (then dtype, then the base model's)
 * @param tokenizerSource {@code base}, {@code union}, a model reference, or null
 * @param chatTemplate    a built-in template name, {@code auto}, a Jinja template, or null
 * @param sourceText      the text the config was parsed from (recorded in the model card), or null
 * @param padToMultipleOf {@code tokenizer.pad_to_multiple_of}: embedding rows rounded up to a multiple of it, or null
 * @param parseWarnings   what the parser accepted and ignored, as mergekit does (unknown keys, residual_weight)
 * @param tokens          {@code tokenizer.tokens}: per-token embedding sources, in config order (empty when not given)
 * @param modules         {@code modules:} form: each named module of a multi-module family merged on its own, in
 *                        config order (empty when models or slices are given)
 */
public record MergeConfig(String mergeMethod, String baseModel, List<InputModel> models, List<OutputSlice> slices,
                          Map<String, ParameterSetting> parameters, String dtype, String outDtype,
                          String tokenizerSource, String chatTemplate, String sourceText, Integer padToMultipleOf,
                          List<String> parseWarnings, Map<String, TokenEmbedding> tokens,
                          Map<String, OutputModule> modules) {

    /**
     * Most layers a merge may output (all slices together) and a model may have: the planner and the merge do work
     * per layer, so a layer range from the request must not size it beyond this. Llama 3.1 405B has 126 layers.
     */
    public static final int MAX_OUTPUT_LAYERS = 1024;

    /** Built-in chat templates accepted by name (besides {@code auto} and literal Jinja). */
    public static final Set<String> CHAT_TEMPLATES = ChatTemplates.names();

    public MergeConfig {
        models = models == null ? List.of() : List.copyOf(models);
        slices = slices == null ? List.of() : List.copyOf(slices);
        parameters = parameters == null ? Map.of() : Map.copyOf(parameters);
        parseWarnings = parseWarnings == null ? List.of() : List.copyOf(parseWarnings);
        tokens = tokens == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(tokens));
        modules = modules == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(modules));
    }

    /** A config without {@code tokenizer.tokens}. */
    public MergeConfig(String mergeMethod, String baseModel, List<InputModel> models, List<OutputSlice> slices,
                       Map<String, ParameterSetting> parameters, String dtype, String outDtype,
                       String tokenizerSource, String chatTemplate, String sourceText, Integer padToMultipleOf,
                       List<String> parseWarnings) {
        this(mergeMethod, baseModel, models, slices, parameters, dtype, outDtype, tokenizerSource, chatTemplate,
                sourceText, padToMultipleOf, parseWarnings, Map.of(), Map.of());
    }

    /** A config built in code: no {@code tokenizer.pad_to_multiple_of}, nothing ignored by a parser. */
    public MergeConfig(String mergeMethod, String baseModel, List<InputModel> models, List<OutputSlice> slices,
                       Map<String, ParameterSetting> parameters, String dtype, String outDtype,
                       String tokenizerSource, String chatTemplate, String sourceText) {
        this(mergeMethod, baseModel, models, slices, parameters, dtype, outDtype, tokenizerSource, chatTemplate,
                sourceText, null, List.of());
    }

    /** Parses mergekit YAML; throws {@link MergeConfigException} listing every problem. */
    public static MergeConfig parseYaml(String yaml) {
        return ConfigParser.parse(yaml, true);
    }

    /** Parses the same structure as JSON; throws {@link MergeConfigException} listing every problem. */
    public static MergeConfig parseJson(String json) {
        return ConfigParser.parse(json, false);
    }

    /** Whether the {@code models:} form is used. */
    public boolean usesModels() {
        return !models.isEmpty();
    }

    /** Whether the {@code modules:} form is used. */
    public boolean usesModules() {
        return !modules.isEmpty();
    }

    /**
     * Every slice of the config: the {@code models:} form as one slice, the {@code slices:}, and each module's (in a
     * valid config only one of the three is given).
     */
    public List<OutputSlice> allSlices() {
        List<OutputSlice> all = new ArrayList<>();
        if (usesModels()) {
            all.add(allLayers(models, baseModel));
        }
        all.addAll(slices);
        modules.values().forEach(m -> all.addAll(m.asSlices(baseModel)));
        return all;
    }

    /**
     * The models mergekit's {@code referenced_models()} names: the base, the models and the slice sources, of the
     * whole config and of each module, in config order (not slice base models, not a tokenizer donor).
     */
    public List<String> mergekitReferencedModels() {
        Set<String> refs = new LinkedHashSet<>();
        if (baseModel != null) {
            refs.add(baseModel);
        }
        models.forEach(m -> refs.add(m.model()));
        slices.forEach(s -> s.sources().forEach(src -> refs.add(src.model())));
        for (OutputModule m : modules.values()) {
            m.models().forEach(x -> refs.add(x.model()));
            m.slices().forEach(s -> s.sources().forEach(src -> refs.add(src.model())));
        }
        return List.copyOf(refs);
    }

    /** Every model reference the config names (base first when given), without duplicates. */
    public List<String> referencedModels() {
        Set<String> refs = new LinkedHashSet<>(mergedModels());
        if (tokenizerSource != null && !tokenizerSource.equals("base") && !tokenizerSource.equals("union")) {
            refs.add(tokenizerSource);
        }
        return List.copyOf(refs);
    }

    /** The models whose tensors are merged: the base, every model and slice source, every slice base. */
    public Set<String> mergedModels() {
        Set<String> merged = new LinkedHashSet<>();
        if (baseModel != null) {
            merged.add(baseModel);
        }
        models.forEach(m -> merged.add(m.model()));
        List<OutputSlice> all = new ArrayList<>(slices);
        modules.values().forEach(m -> {
            m.models().forEach(x -> merged.add(x.model()));
            all.addAll(m.slices());
        });
        for (OutputSlice s : all) {
            if (s.baseModel() != null) {
                merged.add(s.baseModel());
            }
            s.sources().forEach(src -> merged.add(src.model()));
        }
        return merged;
    }

    /**
     * The config seen as slices: the {@code models:} form becomes one slice over all layers, which the planner
     * fills in once the layer count is known ({@code layerEnd = -1}). As in mergekit, a {@code base_model} that
     * is not among the models is added as the last one (without parameters of its own), whatever the method:
     * linear, karcher and passthrough then merge it like any other model.
     */
    public List<OutputSlice> asSlices() {
        return usesModels() ? List.of(allLayers(models, baseModel)) : slices;
    }

    /** The {@code models:} form as one slice over all layers, the base added last when it is not among the models. */
    static OutputSlice allLayers(List<InputModel> models, String baseModel) {
        List<SliceSource> sources = new ArrayList<>(models.stream()
                .map(m -> new SliceSource(m.model(), 0, -1, m.parameters())).toList());
        if (baseModel != null && models.stream().noneMatch(m -> m.model().equals(baseModel))) {
            sources.add(new SliceSource(baseModel, 0, -1, Map.of()));
        }
        return new OutputSlice(sources, null, Map.of());
    }

    /**
     * What is accepted but ignored, as mergekit ignores it: the parser's notes (unknown keys,
     * {@code residual_weight}) and parameters the method does not read at the level where they are given.
     */
    public List<String> warnings() {
        List<String> warnings = new ArrayList<>(parseWarnings);
        check(new ArrayList<>(), warnings);
        return warnings;
    }

    /**
     * Checks everything that can be checked without opening a model: method, parameter names, types and ranges,
     * base model, number of inputs, dtypes, tokenizer source, chat template.
     *
     * @return all problems (empty when the config is fine)
     */
    public List<String> validate() {
        List<String> problems = new ArrayList<>();
        check(problems, new ArrayList<>());
        return problems;
    }

    private void check(List<String> problems, List<String> warnings) {
        if (mergeMethod == null) {
            problems.add("merge_method is required; known: " + String.join(", ", MergeMethods.names()));
            return;
        }
        if (!MergeMethods.exists(mergeMethod)) {
            problems.add("unknown merge_method '" + mergeMethod + "'; known: " + String.join(", ", MergeMethods.names()));
            return;
        }
        MergeMethod method = MergeMethods.get(mergeMethod);
        int forms = (models.isEmpty() ? 0 : 1) + (slices.isEmpty() ? 0 : 1) + (modules.isEmpty() ? 0 : 1);
        if (forms != 1) {
            problems.add("exactly one of 'models', 'slices' or 'modules' must be given");
        }
        List<ParameterDef> shared = new ArrayList<>(method.parameters());
        shared.addAll(method.modelParameters());
        checkParams(problems, warnings, "parameters", parameters, shared, method);
        checkModels(problems, warnings, "", models, method);
        checkSlices(problems, warnings, "", slices, shared, method);
        modules.forEach((name, module) -> {
            String where = "modules." + name;
            if (module.models().isEmpty() == module.slices().isEmpty()) {
                problems.add(where + ": give exactly one of 'models' or 'slices'");
            }
            checkParams(problems, warnings, where + ".parameters", module.parameters(), shared, method);
            checkModels(problems, warnings, where + ".", module.models(), method);
            checkSlices(problems, warnings, where + ".", module.slices(), shared, method);
        });
        checkInputs(problems, method);
        checkTokens(problems);
        checkDtype(problems, "dtype", dtype);
        checkDtype(problems, "out_dtype", outDtype);
        if (chatTemplate != null && !chatTemplate.equals("auto") && !ChatTemplates.isLiteral(chatTemplate)
                && !CHAT_TEMPLATES.contains(chatTemplate)) {
            problems.add("unknown chat_template '" + chatTemplate + "'; use auto, a Jinja template, or one of "
                    + String.join(", ", CHAT_TEMPLATES));
        }
    }

    private static void checkModels(List<String> problems, List<String> warnings, String prefix,
                                    List<InputModel> models, MergeMethod method) {
        for (int i = 0; i < models.size(); i++) {
            checkParams(problems, warnings, prefix + "models[" + i + "] (" + models.get(i).model() + ").parameters",
                    models.get(i).parameters(), method.modelParameters(), method);
        }
    }

    /** Parameters, sources and layer ranges of one list of slices (the config's or a module's). */
    private static void checkSlices(List<String> problems, List<String> warnings, String prefix,
                                    List<OutputSlice> slices, List<ParameterDef> shared, MergeMethod method) {
        long outputLayers = 0;
        for (int s = 0; s < slices.size(); s++) {
            OutputSlice slice = slices.get(s);
            String at = prefix + "slices[" + s + "]";
            checkParams(problems, warnings, at + ".parameters", slice.parameters(), shared, method);
            if (slice.sources().isEmpty()) {
                problems.add(at + " has no sources");
            }
            for (int j = 0; j < slice.sources().size(); j++) {
                SliceSource src = slice.sources().get(j);
                String where = at + ".sources[" + j + "] (" + src.model() + ")";
                checkParams(problems, warnings, where + ".parameters", src.parameters(), method.modelParameters(), method);
                if (src.layerStart() < 0 || src.layerEnd() <= src.layerStart()) {
                    problems.add(where + ".layer_range [" + src.layerStart() + ", " + src.layerEnd()
                            + "] must satisfy 0 <= start < end");
                } else if (src.layerEnd() > MAX_OUTPUT_LAYERS) {
                    problems.add(where + ".layer_range [" + src.layerStart() + ", " + src.layerEnd()
                            + "] goes beyond layer " + MAX_OUTPUT_LAYERS + ", the most a model or a merge may have");
                } else if (j == 0) {
                    outputLayers += src.length();
                }
                if (src.length() != slice.sources().get(0).length()) {
                    problems.add(at + ": all sources must span the same number of layers ("
                            + slice.sources().get(0).length() + " vs " + src.length() + " for " + src.model() + ")");
                }
            }
        }
        if (outputLayers > MAX_OUTPUT_LAYERS) {
            problems.add(prefix + "slices: the layer ranges add up to " + outputLayers + " output layers; at most "
                    + MAX_OUTPUT_LAYERS + " are allowed");
        }
    }

    /** A model named by {@code tokenizer.tokens} must be merged (mergekit reads its embedding tensors). */
    private void checkTokens(List<String> problems) {
        Set<String> merged = mergedModels();
        tokens.forEach((token, e) -> {
            if (e.model() != null && !merged.contains(e.model())) {
                problems.add("tokenizer.tokens[" + token + "].source: model '" + e.model()
                        + "' is not one of the merged models (mergekit fails: referenced but not part of merge)");
            }
        });
    }

    private void checkInputs(List<String> problems, MergeMethod method) {
        Set<String> found = new LinkedHashSet<>(); // a problem of several slices or modules is listed once
        for (OutputSlice slice : allSlices()) {
            String base = slice.baseModel() != null ? slice.baseModel() : baseModel;
            boolean hasBase = base != null && method.basePolicy() != BasePolicy.IGNORED;
            if (method.basePolicy() == BasePolicy.REQUIRED && base == null) {
                found.add(mergeMethod + " requires base_model");
            }
            long others = slice.sources().stream().map(SliceSource::model).distinct()
                    .filter(m -> !hasBase || !m.equals(base)).count();
            method.checkInputs((int) others, hasBase).ifPresent(found::add);
        }
        problems.addAll(found);
    }

    private static void checkParams(List<String> problems, List<String> warnings, String where,
                                    Map<String, ParameterSetting> given, List<ParameterDef> allowed, MergeMethod method) {
        for (Map.Entry<String, ParameterSetting> e : new java.util.TreeMap<>(given).entrySet()) {
            ParameterDef def = allowed.stream().filter(d -> d.name().equals(e.getKey())).findFirst().orElse(null);
            if (def == null) {
                // mergekit reads only the parameters a method declares, each at its levels, and ignores the rest
                warnings.add(where + ": parameter '" + e.getKey() + "' is not used by " + method.name()
                        + " here and is ignored; used here: "
                        + (allowed.isEmpty() ? "none" : String.join(", ", allowed.stream().map(ParameterDef::name).toList())));
                continue;
            }
            for (Object v : e.getValue().possibleValues()) {
                String problem = def.check(v);
                if (problem != null) {
                    problems.add(where + ": " + problem);
                }
            }
        }
    }

    private static void checkDtype(List<String> problems, String key, String name) {
        if (name != null && DtypeNames.parse(name) == null) {
            problems.add(key + " '" + name + "' is not one of " + String.join(", ", DtypeNames.NAMES.keySet()));
        }
    }
}
