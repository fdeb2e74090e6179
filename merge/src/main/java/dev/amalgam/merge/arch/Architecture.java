package dev.amalgam.merge.arch;

import dev.amalgam.merge.config.MergeConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A model family's tensor layout, as mergekit describes it: the weights before the decoder layers, the weights of
 * one layer as templates over {@code ${layer_index}} (and {@code ${expert_index}} for mixture-of-experts layers),
 * the weights after the layers, and the config keys that size them. Families are data: one JSON file per family
 * under {@code dev/amalgam/merge/arch/families/}, listed in {@code families.txt} there (the format is described in
 * the module README). An architecture without a file is inferred from its tensor names ({@link #infer}), with one
 * module per layer stack when it has several. A family of several modules (mergekit's {@code kind: modular}, e.g.
 * Llava's language model, vision encoder and the weights outside both) has no weights of its own: each
 * {@link Module} has its layout, planned one after the other.
 *
 * <p>Names are resolved once per tensor while a merge is planned, never while tensors are merged.
 *
 * @param modelType           config.json {@code model_type} (picks among files that share an architecture name)
 * @param architectures       config.json {@code architectures} values of the family
 * @param numLayersKeys       config keys of the layer count, the first present one counts (dotted for nested keys)
 * @param vocabSizeKey        config key of the vocabulary size
 * @param numExpertsKey       config key of the expert count that {@code ${expert_index}} runs over, or null
 * @param preWeights          weights before the layers
 * @param layerWeights        weights of layer {@code ${layer_index}}
 * @param postWeights         weights after the layers
 * @param passthroughPrefixes tensors under these prefixes are copied unchanged from the base (else first) model
 * @param source              the file the family came from, or {@code inferred}
 * @param inferredLayers      the layer count of an inferred layout (0 for an inferred family of several modules,
 *                            whose modules have their own), -1 for a family file
 * @param overrideLayers      mergekit's {@code override_num_layers}: the layer count whatever the config says, or -1
 * @param submodules          the modules of a multi-module ({@code kind: modular}) family, in file order; empty for
 *                            a family of one module (whose weights are the fields above)
 * @param tagalongFiles       mergekit's {@code tagalong_files}: files the output copies from the base (else first)
 *                            model, e.g. a vision model's {@code preprocessor_config.json}
 */
public record Architecture(String modelType, List<String> architectures, List<String> numLayersKeys,
                           String vocabSizeKey, String numExpertsKey, List<WeightInfo> preWeights,
                           List<WeightInfo> layerWeights, List<WeightInfo> postWeights,
                           List<String> passthroughPrefixes, String source, int inferredLayers, int overrideLayers,
                           List<Module> submodules, List<String> tagalongFiles) {

    /**
     * One module of a family, as mergekit's {@code ModuleDefinition}: a layout of its own (weights before, in and
     * after its layers, its own layer count) under a name that a config's {@code modules:} key uses.
     *
     * @param name    the module's name in the family file
     * @param aliases other names a config may give it
     * @param layout  its weights (names already carry the module's {@code weight_prefix})
     */
    public record Module(String name, List<String> aliases, Architecture layout) {
        public Module {
            aliases = List.copyOf(aliases);
        }

        /** Whether a config's module name means this module. */
        public boolean answersTo(String configName) {
            return name.equals(configName) || aliases.contains(configName);
        }
    }

    static final String INDEX = "families/families.txt";
    private static final Pattern VAR = Pattern.compile("\\$\\{([a-z_]+)([+-]1)?}");
    private static final Pattern LAYER_INDEX = Pattern.compile("\\.(\\d+)\\.");
    private static final List<String> LAYER_KEYS = List.of("num_hidden_layers", "n_layer", "num_layers", "n_layers");
    private static final List<Architecture> KNOWN = loadAll();

    public Architecture {
        architectures = List.copyOf(architectures);
        numLayersKeys = List.copyOf(numLayersKeys);
        preWeights = List.copyOf(preWeights);
        layerWeights = List.copyOf(layerWeights);
        postWeights = List.copyOf(postWeights);
        passthroughPrefixes = List.copyOf(passthroughPrefixes);
        submodules = List.copyOf(submodules);
        tagalongFiles = List.copyOf(tagalongFiles);
    }

    /**
     * The modules a merge plans one after the other: a multi-module family's, else this layout as mergekit's one
     * {@code default} module.
     */
    public List<Module> modules() {
        return submodules.isEmpty() ? List.of(new Module("default", List.of(), this)) : submodules;
    }

    /** Every family file, in the order of {@code families.txt}. */
    public static List<Architecture> known() {
        return KNOWN;
    }

    /** Every architecture name with a family file. */
    public static List<String> supported() {
        return KNOWN.stream().flatMap(a -> a.architectures().stream()).distinct().toList();
    }

    /**
     * The family of a model's config.json: its {@code architectures[0]}, and when several files list that name,
     * the one whose {@code model_type} matches (as mergekit picks).
     */
    public static Optional<Architecture> forConfig(JsonNode config) {
        JsonNode a = config.get("architectures");
        if (a == null || !a.isArray() || a.isEmpty()) {
            return Optional.empty();
        }
        String name = a.get(0).asString();
        List<Architecture> candidates = KNOWN.stream().filter(x -> x.architectures().contains(name)).toList();
        if (candidates.size() <= 1) {
            return candidates.stream().findFirst();
        }
        String type = config.path("model_type").asString("");
        return candidates.stream().filter(c -> c.modelType().equals(type)).findFirst()
                .or(() -> Optional.of(candidates.get(0)));
    }

    /** Whether this layout was inferred from tensor names rather than read from a family file. */
    public boolean isInferred() {
        return inferredLayers >= 0;
    }

    /** The first of {@link #numLayersKeys} present in the config, or null when none is. */
    public String numLayersKey(JsonNode config) {
        return numLayersKeys.stream().filter(k -> configValue(config, k) != null).findFirst().orElse(null);
    }

    /** The config's layer count (null when no layer key is present); an inferred layout's own count. */
    public JsonNode numLayersValue(JsonNode config) {
        if (isInferred()) {
            return tools.jackson.databind.node.IntNode.valueOf(inferredLayers);
        }
        if (overrideLayers >= 0) {
            return tools.jackson.databind.node.IntNode.valueOf(overrideLayers);
        }
        String key = numLayersKey(config);
        return key == null ? null : configValue(config, key);
    }

    /**
     * Layers a model has by its tensor names: the highest layer index plus one (for a config without a layer
     * count).
     */
    public int countLayers(Collection<String> tensorNames) {
        String t = layerWeights.stream().map(WeightInfo::name).filter(n -> n.contains("${layer_index}")).findFirst()
                .orElse(null);
        if (t == null) {
            return 0;
        }
        Pattern p = Pattern.compile(Pattern.quote(t.substring(0, t.indexOf("${layer_index}"))) + "(\\d+)\\.");
        int max = -1;
        for (String n : tensorNames) {
            Matcher m = p.matcher(n);
            if (m.lookingAt()) {
                max = Math.max(max, Integer.parseInt(m.group(1)));
            }
        }
        return max + 1;
    }

    /** The weights before the layers for a model with {@code numLayers} layers. */
    public List<WeightInfo> preWeights(int numLayers) {
        return resolve(preWeights, Map.of("num_layers", numLayers));
    }

    /** The weights after the layers for a model with {@code numLayers} layers. */
    public List<WeightInfo> postWeights(int numLayers) {
        return resolve(postWeights, Map.of("num_layers", numLayers));
    }

    /**
     * The weights of layer {@code index}, experts expanded from the config's expert count. A template without
     * {@code ${layer_index}} (allowed in a module with {@code override_num_layers}) names the same tensor at every
     * layer: it is one weight, planned at layer 0 only (mergekit plans it at every layer and writes the same name
     * once per layer; with a gradient, which of those writes its output keeps is not specified).
     *
     * @throws IllegalArgumentException when the family has experts and the config has no valid expert count
     */
    public List<WeightInfo> layerWeights(int index, int numLayers, JsonNode config) {
        int experts = numExperts(config);
        List<WeightInfo> res = new ArrayList<>(layerWeights.size() + 3 * Math.max(experts, 0));
        Map<String, Integer> vars = new HashMap<>(Map.of("layer_index", index, "num_layers", numLayers));
        for (WeightInfo w : layerWeights) {
            if (index != 0 && !w.name().contains("${layer_index}")) {
                continue;
            }
            if (w.name().contains("${expert_index}")) {
                for (int e = 0; e < experts; e++) {
                    vars.put("expert_index", e);
                    res.add(w.map(s -> substitute(s, vars)));
                }
                vars.remove("expert_index");
            } else {
                res.add(w.map(s -> substitute(s, vars)));
            }
        }
        return res;
    }

    /** The config's expert count, or -1 for a family without experts. */
    public int numExperts(JsonNode config) {
        if (numExpertsKey == null) {
            return -1;
        }
        JsonNode n = configValue(config, numExpertsKey);
        if (n == null || !n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() < 1 || n.intValue() > 4096) {
            throw new IllegalArgumentException("config.json " + numExpertsKey + " must be an integer in [1, 4096] for "
                    + modelType + " (" + source + "), found " + n);
        }
        return n.intValue();
    }

    /** A config value by key; a dotted key walks nested objects ({@code text_config.num_hidden_layers}). */
    public static JsonNode configValue(JsonNode config, String key) {
        JsonNode n = config;
        for (String part : key.split("\\.")) {
            n = n == null ? null : n.get(part);
        }
        return n == null || n.isNull() ? null : n;
    }

    private static List<WeightInfo> resolve(List<WeightInfo> templates, Map<String, Integer> vars) {
        List<WeightInfo> res = new ArrayList<>(templates.size());
        for (WeightInfo w : templates) {
            res.add(w.map(s -> substitute(s, vars)));
        }
        return res;
    }

    /** mergekit's template substitution: {@code ${name}}, {@code ${name+1}}, {@code ${name-1}}. */
    static String substitute(String template, Map<String, Integer> vars) {
        if (template.indexOf('$') < 0) {
            return template;
        }
        Matcher m = VAR.matcher(template);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            Integer v = vars.get(m.group(1));
            if (v == null) {
                throw new IllegalArgumentException("unknown variable ${" + m.group(1) + "} in '" + template
                        + "' (known here: " + new TreeSet<>(vars.keySet()) + ")");
            }
            int x = m.group(2) == null ? v : m.group(2).equals("+1") ? v + 1 : v - 1;
            m.appendReplacement(sb, Integer.toString(x));
        }
        m.appendTail(sb);
        if (sb.indexOf("${") >= 0) {
            throw new IllegalArgumentException("malformed variable in '" + template + "'");
        }
        return sb.toString();
    }

    // ---- inference for architectures without a family file ----

    /**
     * Infers a layout from the tensor names, as mergekit's {@code infer_architecture_info} does for an architecture
     * it has no file for. The first {@code .N.} in a name is its layer index and what precedes it the name's layer
     * stack (prefix); the names with an index become layer templates of their stack, the others are weights outside
     * the layers (all planned before the layers, as mergekit does). A template or loose weight missing from some
     * model or layer is optional; an embedding is a 2-D loose tensor with the config's vocabulary size as rows.
     *
     * <ul>
     *   <li>one stack: one layout (mergekit's one {@code default} module) whose layer count is the names' and must
     *       match config.json's {@code num_hidden_layers} (or {@code n_layer}, ...) when present;</li>
     *   <li>no stack: one layout of loose weights and no layers;</li>
     *   <li>several stacks: a family of modules, as a {@code kind: modular} file gives, each stack a module named by
     *       its prefix (its layer count the names', no config key) and a {@code default} module of every loose
     *       weight (absent when there is none).</li>
     * </ul>
     *
     * @param names     every merged model's tensor names, by model
     * @param refShapes shape of each tensor of the reference model
     * @param config    the reference model's config.json
     * @throws IllegalArgumentException saying why the layout cannot be inferred and what was found
     */
    public static Architecture infer(String archName, Map<String, ? extends Collection<String>> names,
                                     Map<String, long[]> refShapes, JsonNode config) {
        String why = "cannot infer the tensor layout of architecture '" + archName + "' (no family file): ";
        // prefix -> model -> layers (highest index + 1); prefix -> templates
        Map<String, Map<String, Integer>> layers = new TreeMap<>();
        Map<String, Set<String>> templates = new TreeMap<>();
        Set<String> loose = new TreeSet<>();
        for (Map.Entry<String, ? extends Collection<String>> e : names.entrySet()) {
            for (String n : e.getValue()) {
                Matcher m = LAYER_INDEX.matcher(n);
                if (!m.find()) {
                    loose.add(n);
                    continue;
                }
                String prefix = n.substring(0, m.start());
                // beyond the layers a merge may have (and far beyond an int for a long digit run): a misread index
                if (m.group(1).length() > 9 || Integer.parseInt(m.group(1)) >= MergeConfig.MAX_OUTPUT_LAYERS) {
                    throw new IllegalArgumentException(why + "'" + n + "' of model '" + e.getKey() + "' has layer"
                            + " index " + m.group(1) + " under '" + prefix + "', beyond the "
                            + MergeConfig.MAX_OUTPUT_LAYERS + " layers a model may have");
                }
                layers.computeIfAbsent(prefix, k -> new LinkedHashMap<>())
                        .merge(e.getKey(), Integer.parseInt(m.group(1)) + 1, Math::max);
                templates.computeIfAbsent(prefix, k -> new TreeSet<>())
                        .add(prefix + ".${layer_index}." + n.substring(m.end()));
            }
        }
        if (layers.isEmpty() && loose.isEmpty()) {
            throw new IllegalArgumentException(why + "no model has any tensor (models: " + names.keySet() + ")");
        }
        for (Map.Entry<String, Map<String, Integer>> e : layers.entrySet()) {
            Map<String, Integer> byModel = new LinkedHashMap<>(); // in model order; a model without the stack has 0
            names.keySet().forEach(model -> byModel.put(model, e.getValue().getOrDefault(model, 0)));
            e.setValue(byModel);
        }
        List<String> disagree = layers.entrySet().stream()
                .filter(e -> new TreeSet<>(e.getValue().values()).size() > 1)
                .map(e -> "'" + e.getKey() + "' " + e.getValue()).toList();
        if (!disagree.isEmpty()) {
            throw new IllegalArgumentException(why + "the models number different layer counts under "
                    + String.join(", ", disagree) + " (found " + found(layers, loose) + ")");
        }
        if (layers.size() <= 1) {
            return oneStack(archName, why, names, refShapes, config, layers, templates, loose);
        }
        String vocabKey = Stream.of("vocab_size", "text_config.vocab_size")
                .filter(k -> configValue(config, k) != null).findFirst().orElse("vocab_size");
        List<Module> modules = new ArrayList<>();
        for (Map.Entry<String, Map<String, Integer>> e : layers.entrySet()) {
            int n = e.getValue().values().iterator().next();
            modules.add(new Module(e.getKey(), List.of(), new Architecture("", List.of(), List.of(), vocabKey, null,
                    List.of(), layerTemplates(templates.get(e.getKey()), n, names), List.of(), List.of(), "inferred",
                    n, -1, List.of(), List.of())));
        }
        if (!loose.isEmpty()) {
            modules.add(new Module("default", List.of(), new Architecture("", List.of(), List.of(), vocabKey, null,
                    looseWeights(loose, names, refShapes, configValue(config, vocabKey)), List.of(), List.of(),
                    List.of(), "inferred", 0, -1, List.of(), List.of())));
        }
        return new Architecture("", List.of(archName), List.of(), vocabKey, null, List.of(), List.of(), List.of(),
                List.of(), "inferred", 0, -1, modules, List.of());
    }

    /** One layer stack (or none): a single layout, checked against config.json's layer count. */
    private static Architecture oneStack(String archName, String why, Map<String, ? extends Collection<String>> names,
                                         Map<String, long[]> refShapes, JsonNode config,
                                         Map<String, Map<String, Integer>> layers, Map<String, Set<String>> templates,
                                         Set<String> loose) {
        int n = 0;
        String key = null;
        List<WeightInfo> layerWeights = List.of();
        if (!layers.isEmpty()) {
            String prefix = layers.keySet().iterator().next();
            n = layers.get(prefix).values().iterator().next();
            key = LAYER_KEYS.stream().filter(k -> configValue(config, k) != null).findFirst().orElse(null);
            if (key != null && (!configValue(config, key).isIntegralNumber() || configValue(config, key).intValue() != n)) {
                throw new IllegalArgumentException(why + "config.json " + key + " is " + configValue(config, key)
                        + " but the tensor names number " + n + " layers (under '" + prefix + "')");
            }
            layerWeights = layerTemplates(templates.get(prefix), n, names);
        }
        return new Architecture("", List.of(archName), key == null ? List.of() : List.of(key), "vocab_size", null,
                looseWeights(loose, names, refShapes, configValue(config, "vocab_size")), layerWeights, List.of(),
                List.of(), "inferred", n, -1, List.of(), List.of());
    }

    /** A stack's templates, each optional unless every model stores it at every layer. */
    private static List<WeightInfo> layerTemplates(Set<String> templates, int layers,
                                                   Map<String, ? extends Collection<String>> names) {
        List<WeightInfo> res = new ArrayList<>();
        for (String t : templates) {
            boolean everywhere = true;
            for (Collection<String> ns : names.values()) {
                for (int i = 0; i < layers && everywhere; i++) {
                    everywhere = ns.contains(t.replace("${layer_index}", Integer.toString(i)));
                }
            }
            res.add(new WeightInfo(t, false, !everywhere, List.of(), List.of()));
        }
        return res;
    }

    /** The weights outside the layers: optional unless every model stores it; an embedding has vocab rows. */
    private static List<WeightInfo> looseWeights(Set<String> loose, Map<String, ? extends Collection<String>> names,
                                                 Map<String, long[]> refShapes, JsonNode vocab) {
        List<WeightInfo> res = new ArrayList<>();
        for (String n : loose) {
            boolean everywhere = names.values().stream().allMatch(ns -> ns.contains(n));
            long[] shape = refShapes.get(n);
            boolean embed = shape != null && shape.length == 2 && vocab != null && vocab.isIntegralNumber()
                    && shape[0] == vocab.longValue();
            res.add(new WeightInfo(n, embed, !everywhere, List.of(), List.of()));
        }
        return res;
    }

    /** What inference found, for its messages: each stack with its models' layer counts, and the loose weights. */
    private static String found(Map<String, Map<String, Integer>> layers, Set<String> loose) {
        List<String> res = new ArrayList<>();
        layers.forEach((p, byModel) -> res.add("'" + p + "' " + byModel));
        res.add(loose.size() + " tensors outside the layers");
        return String.join(", ", res);
    }

    // ---- family files ----

    private static List<Architecture> loadAll() {
        List<Architecture> res = new ArrayList<>();
        for (String file : indexEntries()) {
            try (InputStream in = Architecture.class.getResourceAsStream("families/" + file)) {
                if (in == null) {
                    throw new IllegalStateException(INDEX + " lists " + file + ", which is missing");
                }
                res.add(parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), file));
            } catch (IOException e) {
                throw new IllegalStateException("cannot read architecture file " + file, e);
            }
        }
        return List.copyOf(res);
    }

    static List<String> indexEntries() {
        try (InputStream in = Architecture.class.getResourceAsStream(INDEX)) {
            if (in == null) {
                throw new IllegalStateException(INDEX + " missing from the merge jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().map(String::strip)
                    .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + INDEX, e);
        }
    }

    /**
     * Reads one family file: one module (mergekit's {@code kind: module}, the default) or several ({@code kind:
     * modular}, with {@code modules: {name: {weight_prefix, aliases, architecture: {...}}}}).
     *
     * @throws IllegalArgumentException naming the file and the field when the file is not a valid family
     */
    public static Architecture parse(String json, String file) {
        JsonNode root;
        try {
            root = JsonMapper.builder().build().readTree(json);
        } catch (JacksonException e) {
            throw new IllegalArgumentException(file + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException(file + ": must be a JSON object");
        }
        String kind = root.has("kind") ? text(root, "kind", file) : "module";
        if (kind.equals("module")) {
            return layout(root, "", file, file, false);
        }
        if (!kind.equals("modular")) {
            throw new IllegalArgumentException(file + ": kind must be 'module' or 'modular', found '" + kind + "'");
        }
        knownKeys(root, Set.of("kind", "model_type", "architectures", "vocab_size_config_key", "modules",
                "tagalong_files", "description"), file);
        JsonNode mods = root.get("modules");
        if (mods == null || !mods.isObject() || mods.isEmpty()) {
            throw new IllegalArgumentException(file + ": modules must be a non-empty mapping of name to module");
        }
        List<Module> modules = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : mods.properties()) {
            String where = file + ": modules." + e.getKey();
            JsonNode m = e.getValue();
            if (!m.isObject()) {
                throw new IllegalArgumentException(where + " must be a mapping with an architecture");
            }
            knownKeys(m, Set.of("weight_prefix", "aliases", "architecture", "subfolder"), where);
            if (m.has("subfolder")) {
                throw new IllegalArgumentException(where + ": subfolder (weights in a sub-directory) is not supported");
            }
            String prefix = m.has("weight_prefix") ? text(m, "weight_prefix", where) : "";
            JsonNode a = m.get("architecture");
            if (a == null || !a.isObject()) {
                throw new IllegalArgumentException(where + ".architecture must be a mapping");
            }
            modules.add(new Module(e.getKey(), m.has("aliases") ? strings(m.get("aliases"), where, "aliases")
                    : List.of(), layout(a, prefix, file + "#" + e.getKey(), where + ".architecture", true)));
        }
        Set<String> names = new java.util.HashSet<>();
        for (Module m : modules) {
            for (String n : m.aliases()) {
                if (!names.add(n) || mods.has(n)) {
                    throw new IllegalArgumentException(file + ": module name '" + n + "' is used twice");
                }
            }
        }
        return new Architecture(text(root, "model_type", file), strings(root.get("architectures"), file,
                "architectures"), List.of(), root.has("vocab_size_config_key")
                ? text(root, "vocab_size_config_key", file) : "vocab_size", null, List.of(), List.of(), List.of(),
                List.of(), file, -1, -1, modules, root.has("tagalong_files")
                ? strings(root.get("tagalong_files"), file, "tagalong_files") : List.of());
    }

    /** One module's layout; {@code inModule}: inside a modular file, where mergekit's fields are optional. */
    private static Architecture layout(JsonNode root, String modulePrefix, String source, String where,
                                       boolean inModule) {
        knownKeys(root, inModule
                ? Set.of("model_type", "architectures", "num_layers_config_key", "override_num_layers",
                "num_experts_config_key", "pre_weights", "layer_templates", "post_weights", "description")
                : Set.of("kind", "model_type", "architectures", "num_layers_config_key", "vocab_size_config_key",
                "num_experts_config_key", "weight_prefix", "pre_weights", "layer_templates", "post_weights",
                "passthrough_prefixes", "description"), where);
        String prefix = modulePrefix + root.path("weight_prefix").asString("");
        String experts = root.has("num_experts_config_key") ? text(root, "num_experts_config_key", where) : null;
        List<String> layerKeys;
        if (root.path("num_layers_config_key").isArray()) {
            layerKeys = strings(root.get("num_layers_config_key"), where, "num_layers_config_key");
        } else if (inModule && (!root.has("num_layers_config_key") || root.get("num_layers_config_key").isNull())) {
            layerKeys = List.of(); // mergekit: optional; then the layers the tensor names number
        } else {
            layerKeys = List.of(text(root, "num_layers_config_key", where));
        }
        int override = -1;
        if (root.has("override_num_layers")) {
            JsonNode o = root.get("override_num_layers");
            if (!o.isIntegralNumber() || !o.canConvertToInt() || o.intValue() < 0) {
                throw new IllegalArgumentException(where + ": override_num_layers must be an integer >= 0");
            }
            override = o.intValue();
        }
        JsonNode lt = root.path("layer_templates").path("weights");
        if (!lt.isArray()) {
            throw new IllegalArgumentException(where + ": layer_templates.weights must be a list");
        }
        String type = inModule ? root.path("model_type").asString("") : text(root, "model_type", where);
        List<String> archs = inModule && !root.has("architectures") ? List.of()
                : strings(root.get("architectures"), where, "architectures");
        Architecture a = new Architecture(type, archs, layerKeys,
                root.has("vocab_size_config_key") ? text(root, "vocab_size_config_key", where) : "vocab_size", experts,
                weights(root.get("pre_weights"), prefix, where, "pre_weights"),
                weights(lt, prefix, where, "layer_templates.weights"),
                weights(root.get("post_weights"), prefix, where, "post_weights"),
                root.has("passthrough_prefixes")
                        ? strings(root.get("passthrough_prefixes"), where, "passthrough_prefixes") : List.of(),
                source, -1, override, List.of(), List.of());
        a.checkTemplates();
        return a;
    }

    private static void knownKeys(JsonNode node, Set<String> knownKeys, String where) {
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!knownKeys.contains(e.getKey())) {
                throw new IllegalArgumentException(where + ": unknown field '" + e.getKey() + "' (known: "
                        + new TreeSet<>(knownKeys) + ")");
            }
        }
    }

    /** Every template must resolve: layer templates hold {@code ${layer_index}}, experts need an expert count key. */
    private void checkTemplates() {
        Map<String, Integer> outside = Map.of("num_layers", 2);
        for (WeightInfo w : preWeights) {
            checkOne(w, outside, "pre_weights");
        }
        for (WeightInfo w : postWeights) {
            checkOne(w, outside, "post_weights");
        }
        Map<String, Integer> layer = new HashMap<>(Map.of("num_layers", 2, "layer_index", 1));
        if (numExpertsKey != null) {
            layer.put("expert_index", 0);
        }
        for (WeightInfo w : layerWeights) {
            if (!w.name().contains("${layer_index}") && overrideLayers < 0) {
                throw new IllegalArgumentException(source + ": layer template '" + w.name()
                        + "' has no ${layer_index} (allowed only with override_num_layers)");
            }
            checkOne(w, layer, "layer_templates.weights");
        }
    }

    private void checkOne(WeightInfo w, Map<String, Integer> vars, String field) {
        try {
            w.map(s -> substitute(s, vars));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": " + field + ": " + e.getMessage(), e);
        }
    }

    private static List<WeightInfo> weights(JsonNode arr, String prefix, String file, String field) {
        if (arr == null || !arr.isArray()) {
            throw new IllegalArgumentException(file + ": " + field + " must be a list");
        }
        List<WeightInfo> res = new ArrayList<>();
        Set<String> known = Set.of("name", "is_embed", "optional", "aliases", "tied_names", "input_space",
                "output_space", "head_split", "is_kq");
        for (JsonNode w : arr) {
            String where = field + "[" + res.size() + "]";
            if (!w.isObject()) {
                throw new IllegalArgumentException(file + ": " + where + " must be an object with a name");
            }
            for (Map.Entry<String, JsonNode> e : w.properties()) {
                if (!known.contains(e.getKey())) {
                    throw new IllegalArgumentException(file + ": " + where + ": unknown field '" + e.getKey() + "'");
                }
            }
            WeightInfo info = new WeightInfo(text(w, "name", file + ": " + where), flag(w, "is_embed", file, where),
                    flag(w, "optional", file, where),
                    w.has("aliases") ? strings(w.get("aliases"), file, where + ".aliases") : List.of(),
                    w.has("tied_names") ? strings(w.get("tied_names"), file, where + ".tied_names") : List.of());
            res.add(info.map(s -> prefix + s));
        }
        return res;
    }

    private static boolean flag(JsonNode w, String key, String file, String where) {
        JsonNode n = w.get(key);
        if (n != null && !n.isBoolean()) {
            throw new IllegalArgumentException(file + ": " + where + "." + key + " must be true or false");
        }
        return n != null && n.booleanValue();
    }

    private static String text(JsonNode n, String key, String where) {
        JsonNode v = n.get(key);
        if (v == null || !v.isString() || v.asString().isEmpty()) {
            throw new IllegalArgumentException(where + ": '" + key + "' must be a non-empty string");
        }
        return v.asString();
    }

    private static List<String> strings(JsonNode arr, String file, String field) {
        if (arr == null || !arr.isArray()) {
            throw new IllegalArgumentException(file + ": " + field + " must be a list of strings");
        }
        List<String> res = new ArrayList<>();
        for (JsonNode n : arr) {
            if (!n.isString()) {
                throw new IllegalArgumentException(file + ": " + field + " must be a list of strings");
            }
            res.add(n.asString());
        }
        return res;
    }
}
