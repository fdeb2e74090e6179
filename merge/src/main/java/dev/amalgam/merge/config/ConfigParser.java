package dev.amalgam.merge.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.dataformat.yaml.YAMLMapper;

/** Reads the mergekit config tree (from YAML or JSON) into records, collecting every problem on the way. */
final class ConfigParser {

    private static final Set<String> TOP_KEYS = Set.of("merge_method", "base_model", "models", "slices", "parameters",
            "dtype", "out_dtype", "tokenizer_source", "tokenizer", "chat_template");

    private final List<String> problems = new ArrayList<>();

    private ConfigParser() {
    }

    static MergeConfig parse(String text, boolean yaml) {
        JsonNode root;
        try {
            root = yaml ? YAMLMapper.builder().build().readTree(text) : JsonMapper.builder().build().readTree(text);
        } catch (JacksonException e) {
            throw new MergeConfigException(List.of("config is not valid " + (yaml ? "YAML" : "JSON") + ": "
                    + e.getOriginalMessage()));
        }
        ConfigParser p = new ConfigParser();
        MergeConfig cfg = p.config(root, text);
        p.problems.addAll(cfg.validate());
        if (!p.problems.isEmpty()) {
            throw new MergeConfigException(p.problems);
        }
        return cfg;
    }

    private MergeConfig config(JsonNode root, String text) {
        if (root == null || !root.isObject()) {
            problems.add("config must be a mapping with merge_method and models or slices");
            return new MergeConfig(null, null, List.of(), List.of(), Map.of(), null, null, null, null, text);
        }
        for (String key : root.propertyNames()) {
            if (key.equals("modules")) {
                problems.add("'modules' (multi-module merges) is not supported; use models or slices");
            } else if (!TOP_KEYS.contains(key)) {
                problems.add("unknown key '" + key + "'; known: " + String.join(", ", new java.util.TreeSet<>(TOP_KEYS)));
            }
        }
        String tokenizerSource = string(root, "tokenizer_source", "tokenizer_source");
        Integer padToMultipleOf = null;
        JsonNode tok = root.get("tokenizer");
        if (tok != null && !tok.isNull()) {
            if (tokenizerSource != null) {
                problems.add("cannot specify both tokenizer_source and tokenizer");
            }
            if (!tok.isObject()) {
                problems.add("tokenizer must be a mapping with 'source'");
            } else {
                // mergekit's TokenizerConfig: source defaults to union
                tokenizerSource = tok.has("source") ? string(tok, "source", "tokenizer.source") : "union";
                JsonNode pad = tok.get("pad_to_multiple_of");
                if (pad != null && !pad.isNull()) {
                    if (pad.isIntegralNumber() && pad.canConvertToInt() && pad.intValue() >= 1
                            && pad.intValue() <= 1 << 20) {
                        padToMultipleOf = pad.intValue();
                    } else {
                        problems.add("tokenizer.pad_to_multiple_of must be an integer in [1, 1048576], found " + pad);
                    }
                }
                for (String key : tok.propertyNames()) {
                    if (!key.equals("source") && !key.equals("pad_to_multiple_of")) {
                        problems.add("tokenizer." + key
                                + " is not supported yet (only tokenizer.source and tokenizer.pad_to_multiple_of)");
                    }
                }
            }
        }
        if (tokenizerSource != null && tokenizerSource.startsWith("model:")) {
            tokenizerSource = tokenizerSource.substring("model:".length());
        }
        List<InputModel> models = new ArrayList<>();
        JsonNode modelsNode = root.get("models");
        if (modelsNode != null && !modelsNode.isNull()) {
            if (!modelsNode.isArray()) {
                problems.add("models must be a list");
            } else {
                for (int i = 0; i < modelsNode.size(); i++) {
                    InputModel m = model(modelsNode.get(i), "models[" + i + "]");
                    if (m != null) {
                        models.add(m);
                    }
                }
            }
        }
        List<OutputSlice> slices = new ArrayList<>();
        JsonNode slicesNode = root.get("slices");
        if (slicesNode != null && !slicesNode.isNull()) {
            if (!slicesNode.isArray()) {
                problems.add("slices must be a list");
            } else {
                for (int i = 0; i < slicesNode.size(); i++) {
                    OutputSlice s = slice(slicesNode.get(i), "slices[" + i + "]");
                    if (s != null) {
                        slices.add(s);
                    }
                }
            }
        }
        return new MergeConfig(string(root, "merge_method", "merge_method"), modelRef(root.get("base_model"), "base_model"),
                models, slices, params(root.get("parameters"), "parameters"), string(root, "dtype", "dtype"),
                string(root, "out_dtype", "out_dtype"), tokenizerSource, string(root, "chat_template", "chat_template"),
                text, padToMultipleOf);
    }

    private InputModel model(JsonNode node, String where) {
        if (node.isString()) {
            return new InputModel(modelRef(node, where), Map.of());
        }
        if (!node.isObject()) {
            problems.add(where + " must be a mapping with 'model'");
            return null;
        }
        unknownKeys(node, where, Set.of("model", "parameters"));
        String model = modelRef(node.get("model"), where + ".model");
        if (model == null) {
            if (node.get("model") == null || node.get("model").isNull()) {
                problems.add(where + ".model is required");
            }
            return null;
        }
        return new InputModel(model, params(node.get("parameters"), where + ".parameters"));
    }

    private OutputSlice slice(JsonNode node, String where) {
        if (!node.isObject()) {
            problems.add(where + " must be a mapping with 'sources'");
            return null;
        }
        unknownKeys(node, where, Set.of("sources", "base_model", "parameters", "residual_weight"));
        if (node.has("residual_weight")) {
            problems.add(where + ".residual_weight is not supported");
        }
        List<SliceSource> sources = new ArrayList<>();
        JsonNode src = node.get("sources");
        if (src == null || !src.isArray()) {
            problems.add(where + ".sources must be a list");
        } else {
            for (int i = 0; i < src.size(); i++) {
                SliceSource s = source(src.get(i), where + ".sources[" + i + "]");
                if (s != null) {
                    sources.add(s);
                }
            }
        }
        return new OutputSlice(sources, modelRef(node.get("base_model"), where + ".base_model"),
                params(node.get("parameters"), where + ".parameters"));
    }

    private SliceSource source(JsonNode node, String where) {
        if (!node.isObject()) {
            problems.add(where + " must be a mapping with 'model' and 'layer_range'");
            return null;
        }
        unknownKeys(node, where, Set.of("model", "layer_range", "parameters"));
        String model = modelRef(node.get("model"), where + ".model");
        JsonNode range = node.get("layer_range");
        if (model == null && (node.get("model") == null || node.get("model").isNull())) {
            problems.add(where + ".model is required");
        }
        if (range == null || !range.isArray() || range.size() != 2 || !range.get(0).isIntegralNumber()
                || !range.get(1).isIntegralNumber()) {
            problems.add(where + ".layer_range must be [start, end] with integers");
            return null;
        }
        // intValue() throws beyond the int range; such a range cannot fit the output-layer limit anyway
        if (!range.get(0).canConvertToInt() || !range.get(1).canConvertToInt()) {
            problems.add(where + ".layer_range " + range + " is out of range: an output has at most "
                    + MergeConfig.MAX_OUTPUT_LAYERS + " layers");
            return null;
        }
        return model == null ? null : new SliceSource(model, range.get(0).intValue(), range.get(1).intValue(),
                params(node.get("parameters"), where + ".parameters"));
    }

    private Map<String, ParameterSetting> params(JsonNode node, String where) {
        Map<String, ParameterSetting> res = new LinkedHashMap<>();
        if (node == null || node.isNull()) {
            return res;
        }
        if (!node.isObject()) {
            problems.add(where + " must be a mapping");
            return res;
        }
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            ParameterSetting s = setting(e.getValue(), where + "." + e.getKey());
            if (s != null) {
                res.put(e.getKey(), s);
            }
        }
        return res;
    }

    private ParameterSetting setting(JsonNode node, String where) {
        if (node.isNumber() || node.isBoolean() || node.isString()) {
            return new ParameterSetting.Scalar(scalar(node));
        }
        if (node.isObject()) {
            ParameterSetting.Condition c = condition(node, where);
            return c == null ? null : new ParameterSetting.Conditional(List.of(c));
        }
        if (node.isArray() && !node.isEmpty()) {
            boolean allNumbers = true;
            boolean allScalars = true;
            boolean allObjects = true;
            for (JsonNode e : node) {
                allNumbers &= e.isNumber();
                allScalars &= e.isNumber() || e.isBoolean() || e.isString();
                allObjects &= e.isObject();
            }
            if (allNumbers) {
                List<Double> pts = new ArrayList<>();
                node.forEach(e -> pts.add(e.doubleValue()));
                return new ParameterSetting.Gradient(pts);
            }
            if (allScalars) {
                List<Object> vals = new ArrayList<>();
                node.forEach(e -> vals.add(scalar(e)));
                return new ParameterSetting.Steps(vals);
            }
            if (allObjects) {
                List<ParameterSetting.Condition> conds = new ArrayList<>();
                for (int i = 0; i < node.size(); i++) {
                    ParameterSetting.Condition c = condition(node.get(i), where + "[" + i + "]");
                    if (c != null) {
                        conds.add(c);
                    }
                }
                return new ParameterSetting.Conditional(conds);
            }
        }
        problems.add(where + " must be a number, boolean, string, a list of numbers (gradient) or a list of"
                + " {filter, value}");
        return null;
    }

    private ParameterSetting.Condition condition(JsonNode node, String where) {
        unknownKeys(node, where, Set.of("filter", "value"));
        JsonNode value = node.get("value");
        if (value == null || value.isObject()) {
            problems.add(where + " needs a 'value' (a scalar or a gradient)");
            return null;
        }
        ParameterSetting v = setting(value, where + ".value");
        return v == null ? null : new ParameterSetting.Condition(string(node, "filter", where + ".filter"), v);
    }

    private static Object scalar(JsonNode node) {
        if (node.isNumber()) {
            return node.doubleValue();
        }
        if (node.isBoolean()) {
            return node.booleanValue();
        }
        return node.stringValue();
    }

    /**
     * A model reference, mergekit's string ({@code path[@rev][+lora[@rev]]}) or dict form
     * ({@code {model: path | {path, revision}, lora: ...}}), as its string form; null when absent or broken
     * (a problem is added).
     */
    private String modelRef(JsonNode node, String where) {
        if (node == null || node.isNull()) {
            return null;
        }
        try {
            if (node.isString()) {
                return ModelReference.parse(node.stringValue()).toString();
            }
            if (node.isObject()) {
                unknownKeys(node, where, Set.of("model", "lora", "override_architecture"));
                if (node.has("override_architecture")) {
                    problems.add(where + ".override_architecture is not supported");
                }
                String[] model = modelPath(node.get("model"), where + ".model");
                String[] lora = node.get("lora") == null || node.get("lora").isNull() ? new String[2]
                        : modelPath(node.get("lora"), where + ".lora");
                if (model == null || lora == null) {
                    return null;
                }
                return new ModelReference(model[0], model[1], lora[0], lora[1]).toString();
            }
        } catch (IllegalArgumentException e) {
            problems.add(where + ": " + e.getMessage());
            return null;
        }
        problems.add(where + " must be a string (path[@revision][+lora]) or a mapping {model, lora}");
        return null;
    }

    /** mergekit's ModelPath: a string ({@code path[@revision]}) or {@code {path, revision}}. */
    private String[] modelPath(JsonNode node, String where) {
        if (node != null && node.isString()) {
            ModelReference r = ModelReference.parse(node.stringValue());
            if (r.hasLora()) {
                throw new IllegalArgumentException("a path cannot hold '+'");
            }
            return new String[] {r.path(), r.revision()};
        }
        if (node != null && node.isObject()) {
            unknownKeys(node, where, Set.of("path", "revision"));
            String path = string(node, "path", where + ".path");
            String revision = string(node, "revision", where + ".revision");
            if (path == null || path.isBlank()) {
                problems.add(where + ".path is required");
                return null;
            }
            if (path.contains("+") || path.contains("@") || (revision != null && revision.contains("+"))) {
                problems.add(where + ": path '" + path + "' cannot hold '+' or '@' (give the revision apart)");
                return null;
            }
            return new String[] {path, revision};
        }
        problems.add(where + " must be a string or a mapping {path, revision}");
        return null;
    }

    private String string(JsonNode node, String key, String where) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isString()) {
            problems.add(where + " must be a string");
            return null;
        }
        return v.stringValue();
    }

    private void unknownKeys(JsonNode node, String where, Set<String> known) {
        for (String key : node.propertyNames()) {
            if (!known.contains(key)) {
                problems.add(where + ": unknown key '" + key + "'; known: " + String.join(", ", new java.util.TreeSet<>(known)));
            }
        }
    }
}
