package dev.amalgam.merge.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads the mergekit config tree (from YAML or JSON) into records, collecting every problem on the way. Lenient
 * where mergekit (pydantic) is: unknown keys are ignored with a warning, numbers written as strings are numbers,
 * an integral float is an integer in {@code layer_range}, {@code residual_weight} is read and ignored.
 */
final class ConfigParser {

    private static final Set<String> TOP_KEYS = Set.of("merge_method", "base_model", "models", "slices", "modules",
            "parameters", "dtype", "out_dtype", "tokenizer_source", "tokenizer", "chat_template");
    /** A number as pydantic reads one from a string (no inf or nan: those are refused as non-finite anyway). */
    private static final java.util.regex.Pattern NUMBER =
            java.util.regex.Pattern.compile("\\s*[+-]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+)?\\s*");
    private static final java.util.regex.Pattern INTEGER = java.util.regex.Pattern.compile("\\s*[+-]?\\d+\\s*");

    private final List<String> problems = new ArrayList<>();
    private final List<String> warnings = new ArrayList<>();

    private ConfigParser() {
    }

    static MergeConfig parse(String text, boolean yaml) {
        JsonNode root;
        if (yaml) {
            root = YamlTree.read(text);
        } else {
            try {
                root = JsonMapper.builder().build().readTree(text);
            } catch (JacksonException e) {
                throw new MergeConfigException(List.of("config is not valid JSON: " + e.getOriginalMessage()));
            }
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
            problems.add("config must be a mapping with merge_method and models, slices or modules");
            return new MergeConfig(null, null, List.of(), List.of(), Map.of(), null, null, null, null, text, null, List.of());
        }
        for (String key : root.propertyNames()) {
            if (!TOP_KEYS.contains(key)) {
                warnings.add("unknown key '" + key + "' is ignored (as mergekit does); known: "
                        + String.join(", ", new java.util.TreeSet<>(TOP_KEYS)));
            }
        }
        String tokenizerSource = string(root, "tokenizer_source", "tokenizer_source");
        Integer padToMultipleOf = null;
        Map<String, TokenEmbedding> tokens = Map.of();
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
                    if (!Set.of("source", "pad_to_multiple_of", "tokens").contains(key)) {
                        warnings.add("unknown key 'tokenizer." + key + "' is ignored (as mergekit does)");
                    }
                }
                tokens = tokens(tok.get("tokens"));
            }
        }
        if (tokenizerSource != null && tokenizerSource.startsWith("model:")) {
            tokenizerSource = tokenizerSource.substring("model:".length());
        }
        List<InputModel> models = models(root.get("models"), "models");
        List<OutputSlice> slices = slices(root.get("slices"), "slices");
        Map<String, OutputModule> modules = new LinkedHashMap<>();
        JsonNode modulesNode = root.get("modules");
        if (modulesNode != null && !modulesNode.isNull()) {
            if (!modulesNode.isObject()) {
                problems.add("modules must be a mapping from module name to {models | slices, parameters}");
            } else {
                for (Map.Entry<String, JsonNode> e : modulesNode.properties()) {
                    String where = "modules." + e.getKey();
                    JsonNode m = e.getValue();
                    if (!m.isObject()) {
                        problems.add(where + " must be a mapping with models or slices");
                        continue;
                    }
                    unknownKeys(m, where, Set.of("models", "slices", "parameters"));
                    modules.put(e.getKey(), new OutputModule(models(m.get("models"), where + ".models"),
                            slices(m.get("slices"), where + ".slices"), params(m.get("parameters"), where + ".parameters")));
                }
            }
        }
        return new MergeConfig(string(root, "merge_method", "merge_method"), modelRef(root.get("base_model"), "base_model"),
                models, slices, params(root.get("parameters"), "parameters"), string(root, "dtype", "dtype"),
                string(root, "out_dtype", "out_dtype"), tokenizerSource, string(root, "chat_template", "chat_template"),
                text, padToMultipleOf, warnings, tokens, modules);
    }

    private List<InputModel> models(JsonNode node, String where) {
        List<InputModel> models = new ArrayList<>();
        if (node != null && !node.isNull()) {
            if (!node.isArray()) {
                problems.add(where + " must be a list");
            } else {
                for (int i = 0; i < node.size(); i++) {
                    InputModel m = model(node.get(i), where + "[" + i + "]");
                    if (m != null) {
                        models.add(m);
                    }
                }
            }
        }
        return models;
    }

    private List<OutputSlice> slices(JsonNode node, String where) {
        List<OutputSlice> slices = new ArrayList<>();
        if (node != null && !node.isNull()) {
            if (!node.isArray()) {
                problems.add(where + " must be a list");
            } else {
                for (int i = 0; i < node.size(); i++) {
                    OutputSlice s = slice(node.get(i), where + "[" + i + "]");
                    if (s != null) {
                        slices.add(s);
                    }
                }
            }
        }
        return slices;
    }

    /**
     * mergekit's {@code tokenizer.tokens}: token to {@code {source, force}}, the source a model reference,
     * {@code {kind: model_token, model, token_id | token}} or {@code {kind: zero}}.
     */
    private Map<String, TokenEmbedding> tokens(JsonNode node) {
        Map<String, TokenEmbedding> res = new LinkedHashMap<>();
        if (node == null || node.isNull()) {
            return res;
        }
        if (!node.isObject()) {
            problems.add("tokenizer.tokens must be a mapping from token to {source, force}");
            return res;
        }
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            String where = "tokenizer.tokens[" + e.getKey() + "]";
            JsonNode cfg = e.getValue();
            if (!cfg.isObject()) {
                problems.add(where + " must be a mapping {source, force}");
                continue;
            }
            unknownKeys(cfg, where, Set.of("source", "force"));
            boolean force = false;
            JsonNode f = cfg.get("force");
            if (f != null && !f.isNull()) {
                String text = f.isString() ? f.stringValue().strip().toLowerCase(java.util.Locale.ROOT) : null;
                if (f.isBoolean()) {
                    force = f.booleanValue();
                } else if (f.isNumber() && (f.doubleValue() == 0 || f.doubleValue() == 1)) {
                    force = f.doubleValue() == 1; // pydantic's bool takes 0 and 1
                } else if (text != null && Set.of("true", "yes", "on", "1", "t", "y").contains(text)) {
                    force = true; // and these strings, as pydantic does
                } else if (text != null && Set.of("false", "no", "off", "0", "f", "n").contains(text)) {
                    force = false;
                } else {
                    problems.add(where + ".force must be true or false, found " + f);
                    continue;
                }
            }
            JsonNode src = cfg.get("source");
            if (src == null || src.isNull()) {
                // mergekit accepts it and then fails at merge time (no embedding source for the token)
                problems.add(where + ".source is required: a model, {kind: model_token, model, token_id | token}"
                        + " or {kind: zero}");
                continue;
            }
            TokenEmbedding t = tokenSource(src, force, where + ".source");
            if (t != null) {
                res.put(e.getKey(), t);
            }
        }
        return res;
    }

    private TokenEmbedding tokenSource(JsonNode src, boolean force, String where) {
        JsonNode kind = src.isObject() ? src.get("kind") : null;
        if (kind == null || kind.isNull()) {
            String model = modelRef(src, where); // a model reference, string or dict form
            return model == null ? null : new TokenEmbedding(TokenEmbedding.Kind.MODEL, model, null, null, force);
        }
        String k = kind.isString() ? kind.stringValue() : kind.toString();
        if (k.equals("zero")) {
            unknownKeys(src, where, Set.of("kind"));
            return new TokenEmbedding(TokenEmbedding.Kind.ZERO, null, null, null, force);
        }
        if (!k.equals("model_token")) {
            problems.add(where + ".kind must be model_token or zero, found " + kind);
            return null;
        }
        unknownKeys(src, where, Set.of("kind", "model", "token_id", "token"));
        String model = modelRef(src.get("model"), where + ".model");
        if (model == null && (src.get("model") == null || src.get("model").isNull())) {
            problems.add(where + ".model is required");
        }
        JsonNode idNode = src.get("token_id");
        Integer tokenId = null;
        if (idNode != null && !idNode.isNull()) {
            java.math.BigInteger id = asInteger(idNode);
            if (id == null || id.bitLength() > 31) {
                problems.add(where + ".token_id must be an integer, found " + idNode);
                return null;
            }
            tokenId = id.intValue();
        }
        String token = string(src, "token", where + ".token");
        if ((tokenId == null) == (token == null)) {
            problems.add(where + ": give exactly one of token_id or token (mergekit's rule)");
            return null;
        }
        return model == null ? null : new TokenEmbedding(TokenEmbedding.Kind.MODEL_TOKEN, model, tokenId, token, force);
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
        JsonNode residual = node.get("residual_weight");
        if (residual != null && !residual.isNull()) {
            // mergekit declares it (an optional float) and never reads it
            if (asNumber(residual) == null) {
                problems.add(where + ".residual_weight must be a number");
            } else {
                warnings.add(where + ".residual_weight is ignored (mergekit reads it but does not use it)");
            }
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
        java.math.BigInteger start = range != null && range.isArray() && range.size() == 2 ? asInteger(range.get(0)) : null;
        java.math.BigInteger end = range != null && range.isArray() && range.size() == 2 ? asInteger(range.get(1)) : null;
        if (start == null || end == null) {
            problems.add(where + ".layer_range must be [start, end] with integers");
            return null;
        }
        // beyond the int range such a range cannot fit the output-layer limit anyway
        if (start.bitLength() > 31 || end.bitLength() > 31) {
            problems.add(where + ".layer_range " + range + " is out of range: an output has at most "
                    + MergeConfig.MAX_OUTPUT_LAYERS + " layers");
            return null;
        }
        return model == null ? null : new SliceSource(model, start.intValue(), end.intValue(),
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

    private ParameterSetting setting(JsonNode raw, String where) {
        JsonNode node = numbersFromStrings(raw);
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

    /** Strings that read as numbers become numbers, also inside lists (pydantic coerces them to floats). */
    private static JsonNode numbersFromStrings(JsonNode node) {
        if (node.isString() && NUMBER.matcher(node.stringValue()).matches()) {
            return tools.jackson.databind.node.JsonNodeFactory.instance.numberNode(Double.parseDouble(node.stringValue().strip()));
        }
        if (node.isArray()) {
            tools.jackson.databind.node.ArrayNode a = tools.jackson.databind.node.JsonNodeFactory.instance.arrayNode();
            node.forEach(e -> a.add(numbersFromStrings(e)));
            return a;
        }
        return node;
    }

    /** A number, a numeric string, or a boolean (1 or 0) as a double, as pydantic reads a float; else null. */
    private static Double asNumber(JsonNode node) {
        JsonNode n = numbersFromStrings(node);
        if (n.isNumber()) {
            return n.doubleValue();
        }
        return n.isBoolean() ? (n.booleanValue() ? 1.0 : 0.0) : null;
    }

    /** An integer, an integral float, or a string of digits, as pydantic reads an int; else null. */
    private static java.math.BigInteger asInteger(JsonNode node) {
        if (node.isIntegralNumber()) {
            return node.bigIntegerValue();
        }
        if (node.isNumber() && Double.isFinite(node.doubleValue()) && node.doubleValue() == Math.rint(node.doubleValue())) {
            return java.math.BigDecimal.valueOf(node.doubleValue()).toBigInteger();
        }
        if (node.isString() && INTEGER.matcher(node.stringValue()).matches()) {
            return new java.math.BigInteger(node.stringValue().strip());
        }
        return null;
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
                warnings.add(where + ": unknown key '" + key + "' is ignored (as mergekit does); known: "
                        + String.join(", ", new java.util.TreeSet<>(known)));
            }
        }
    }
}
