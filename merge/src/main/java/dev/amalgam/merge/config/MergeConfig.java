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
 */
public record MergeConfig(String mergeMethod, String baseModel, List<InputModel> models, List<OutputSlice> slices,
                          Map<String, ParameterSetting> parameters, String dtype, String outDtype,
                          String tokenizerSource, String chatTemplate, String sourceText, Integer padToMultipleOf,
                          List<String> parseWarnings, Map<String, TokenEmbedding> tokens) {

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
    }

    /** A config without {@code tokenizer.tokens}. */
    public MergeConfig(String mergeMethod, String baseModel, List<InputModel> models, List<OutputSlice> slices,
                       Map<String, ParameterSetting> parameters, String dtype, String outDtype,
                       String tokenizerSource, String chatTemplate, String sourceText, Integer padToMultipleOf,
                       List<String> parseWarnings) {
        this(mergeMethod, baseModel, models, slices, parameters, dtype, outDtype, tokenizerSource, chatTemplate,
                sourceText, padToMultipleOf, parseWarnings, Map.of());
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

    /** Every model reference the config names (base first when given), without duplicates. */
    public List<String> referencedModels() {
        Set<String> refs = new LinkedHashSet<>();
        if (baseModel != null) {
            refs.add(baseModel);
        }
        models.forEach(m -> refs.add(m.model()));
        for (OutputSlice s : slices) {
            if (s.baseModel() != null) {
                refs.add(s.baseModel());
            }
            s.sources().forEach(src -> refs.add(src.model()));
        }
        if (tokenizerSource != null && !tokenizerSource.equals("base") && !tokenizerSource.equals("union")) {
            refs.add(tokenizerSource);
        }
        return List.copyOf(refs);
    }

    /**
     * The config seen as slices: the {@code models:} form becomes one slice over all layers, which the planner
     * fills in once the layer count is known ({@code layerEnd = -1}). As in mergekit, a {@code base_model} that
     * is not among the models is added as the last one (without parameters of its own), whatever the method:
     * linear, karcher and passthrough then merge it like any other model.
     */
    public List<OutputSlice> asSlices() {
        if (!usesModels()) {
            return slices;
        }
        List<SliceSource> sources = new ArrayList<>(models.stream()
                .map(m -> new SliceSource(m.model(), 0, -1, m.parameters())).toList());
        if (baseModel != null && models.stream().noneMatch(m -> m.model().equals(baseModel))) {
            sources.add(new SliceSource(baseModel, 0, -1, Map.of()));
        }
        return List.of(new OutputSlice(sources, null, Map.of()));
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
        if (models.isEmpty() == slices.isEmpty()) {
            problems.add("exactly one of 'models' or 'slices' must be given");
        }
        List<ParameterDef> shared = new ArrayList<>(method.parameters());
        shared.addAll(method.modelParameters());
        checkParams(problems, warnings, "parameters", parameters, shared, method);
        for (int i = 0; i < models.size(); i++) {
            checkParams(problems, warnings, "models[" + i + "] (" + models.get(i).model() + ").parameters",
                    models.get(i).parameters(), method.modelParameters(), method);
        }
        long outputLayers = 0;
        for (int s = 0; s < slices.size(); s++) {
            OutputSlice slice = slices.get(s);
            checkParams(problems, warnings, "slices[" + s + "].parameters", slice.parameters(), shared, method);
            if (slice.sources().isEmpty()) {
                problems.add("slices[" + s + "] has no sources");
            }
            for (int j = 0; j < slice.sources().size(); j++) {
                SliceSource src = slice.sources().get(j);
                String where = "slices[" + s + "].sources[" + j + "] (" + src.model() + ")";
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
                    problems.add("slices[" + s + "]: all sources must span the same number of layers ("
                            + slice.sources().get(0).length() + " vs " + src.length() + " for " + src.model() + ")");
                }
            }
        }
        if (outputLayers > MAX_OUTPUT_LAYERS) {
            problems.add("slices: the layer ranges add up to " + outputLayers + " output layers; at most "
                    + MAX_OUTPUT_LAYERS + " are allowed");
        }
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

    /** A model named by {@code tokenizer.tokens} must be merged (mergekit reads its embedding tensors). */
    private void checkTokens(List<String> problems) {
        Set<String> merged = new LinkedHashSet<>();
        if (baseModel != null) {
            merged.add(baseModel);
        }
        models.forEach(m -> merged.add(m.model()));
        for (OutputSlice s : slices) {
            if (s.baseModel() != null) {
                merged.add(s.baseModel());
            }
            s.sources().forEach(src -> merged.add(src.model()));
        }
        tokens.forEach((token, e) -> {
            if (e.model() != null && !merged.contains(e.model())) {
                problems.add("tokenizer.tokens[" + token + "].source: model '" + e.model()
                        + "' is not one of the merged models (mergekit fails: referenced but not part of merge)");
            }
        });
    }

    private void checkInputs(List<String> problems, MergeMethod method) {
        for (OutputSlice slice : slices.isEmpty() ? asSlices() : slices) {
            String base = slice.baseModel() != null ? slice.baseModel() : baseModel;
            boolean hasBase = base != null && method.basePolicy() != BasePolicy.IGNORED;
            if (method.basePolicy() == BasePolicy.REQUIRED && base == null) {
                problems.add(mergeMethod + " requires base_model");
            }
            long others = slice.sources().stream().map(SliceSource::model).distinct()
                    .filter(m -> !hasBase || !m.equals(base)).count();
            method.checkInputs((int) others, hasBase).ifPresent(problems::add);
        }
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
