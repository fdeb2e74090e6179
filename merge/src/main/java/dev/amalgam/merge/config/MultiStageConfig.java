package dev.amalgam.merge.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.MappingIterator;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * mergekit's multi-stage config ({@code mergekit-multi}, {@code mergekit/scripts/multimerge.py}): one YAML file of
 * several documents, each a merge config plus a {@code name}; a later stage names an earlier one as a model, and
 * mergekit merges the named stages into {@code intermediate_dir/NAME} first. At most one document has no name: the
 * final merge, written to the output path. As in mergekit, documents may come in any order (the dependencies decide),
 * a name used twice, a second unnamed document and a cycle are errors, and a reference to a stage may carry a
 * revision or an adapter ({@code stage1+adapter}), which are kept.
 *
 * <p>Each document is checked by the single-document parser ({@link MergeConfig#parseJson}), with problems named by
 * the document. The references to stages are rewritten by a function of the stage name (a pipeline step reference
 * on the platform, a directory in the CLI) where the single-document parser reads model references: {@code base_model},
 * {@code models[].model}, {@code slices[].sources[].model}, {@code slices[].base_model} (also inside each entry of
 * {@code modules}), {@code tokenizer_source} and {@code tokenizer.source}, in string or dict form. mergekit tries every string of a document as a reference;
 * only these fields are model references, so a stage named like another value (a method, a dtype) is not a
 * difference in any config that merges.
 */
public final class MultiStageConfig {

    private static final YAMLMapper YAML = YAMLMapper.builder().build();

    private MultiStageConfig() {
    }

    /**
     * One stage.
     *
     * @param name      the stage's {@code name}, or null for the final, unnamed one
     * @param config    the document without {@code name}, references to stages rewritten, as JSON
     * @param dependsOn the stages it merges
     */
    public record Stage(String name, ObjectNode config, Set<String> dependsOn) {
        public Stage {
            dependsOn = Set.copyOf(dependsOn);
        }
    }

    /** Whether {@code yaml} is a multi-stage config: documents with {@code name} (or more than one document). */
    public static boolean isMultiStage(String yaml) {
        try {
            List<JsonNode> docs = documents(yaml);
            return docs.size() > 1 || (docs.size() == 1 && docs.get(0).isObject() && docs.get(0).has("name"));
        } catch (JacksonException e) {
            return false;
        }
    }

    /**
     * Reads the stages, in the order written, with every problem of every document at once.
     *
     * @param reference the text a reference to the stage named so becomes (the stage's output)
     * @throws MergeConfigException listing every problem
     */
    public static List<Stage> parse(String yaml, UnaryOperator<String> reference) {
        List<JsonNode> docs;
        try {
            docs = documents(yaml);
        } catch (JacksonException e) {
            throw new MergeConfigException(List.of("not valid YAML: " + e.getOriginalMessage()));
        }
        List<String> problems = new ArrayList<>();
        if (docs.isEmpty()) {
            throw new MergeConfigException(List.of("no merge configuration (the file holds no YAML document)"));
        }
        Map<String, ObjectNode> byName = new LinkedHashMap<>();
        List<String> order = new ArrayList<>();
        boolean unnamed = false;
        for (int i = 0; i < docs.size(); i++) {
            String where = "document " + (i + 1);
            if (!(docs.get(i) instanceof ObjectNode doc)) {
                problems.add(where + ": must be a mapping (a merge configuration with a name)");
                continue;
            }
            ObjectNode config = doc.deepCopy();
            JsonNode name = config.remove("name");
            if (name != null && !name.isString()) {
                problems.add(where + ": name must be a string, got " + name);
                continue;
            }
            String n = name == null ? null : name.stringValue();
            if (n == null && unnamed) {
                problems.add(where + ": multiple unnamed merge configurations are not supported (only the final merge has no name)");
                continue;
            }
            if (n != null && byName.containsKey(n)) {
                problems.add(where + ": duplicate merge name '" + n + "'");
                continue;
            }
            unnamed |= n == null;
            byName.put(n, config);
            order.add(n);
        }
        Set<String> names = new LinkedHashSet<>(byName.keySet());
        names.remove(null);
        List<Stage> stages = new ArrayList<>();
        for (String n : order) {
            String where = n == null ? "the unnamed (final) document" : "document '" + n + "'";
            ObjectNode config = byName.get(n);
            try {
                MergeConfig.parseJson(config.toString());
            } catch (MergeConfigException e) {
                e.problems().forEach(p -> problems.add(where + ": " + p));
                continue;
            }
            Set<String> deps = new LinkedHashSet<>();
            ObjectNode rewritten = config.deepCopy();
            rewriteReferences(rewritten, names, reference, deps);
            if (n != null && deps.contains(n)) {
                problems.add(where + ": merges itself");
            }
            stages.add(new Stage(n, rewritten, deps));
        }
        if (problems.isEmpty()) {
            String cycle = cycle(stages);
            if (cycle != null) {
                problems.add("circular dependency between the stages: " + cycle);
            }
        }
        if (!problems.isEmpty()) {
            throw new MergeConfigException(problems);
        }
        return stages;
    }

    private static List<JsonNode> documents(String yaml) {
        List<JsonNode> out = new ArrayList<>();
        try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(yaml)) {
            while (it.hasNextValue()) {
                JsonNode doc = it.nextValue();
                if (doc != null && !doc.isNull() && !doc.isMissingNode()) {
                    out.add(doc);
                }
            }
        }
        return out;
    }

    /** Rewrites the model references of a config that name a stage; records the stages named. */
    private static void rewriteReferences(ObjectNode config, Set<String> names, UnaryOperator<String> reference, Set<String> deps) {
        rewrite(config, "base_model", names, reference, deps);
        rewrite(config, "tokenizer_source", names, reference, deps);
        if (config.get("tokenizer") instanceof ObjectNode tokenizer) {
            rewrite(tokenizer, "source", names, reference, deps);
        }
        rewriteInputs(config, names, reference, deps);
        if (config.get("modules") instanceof ObjectNode modules) {
            for (JsonNode module : modules.values()) {
                if (module instanceof ObjectNode m) {
                    rewriteInputs(m, names, reference, deps);
                }
            }
        }
    }

    /** The references in the {@code models:} and {@code slices:} of a config or of one of its modules. */
    private static void rewriteInputs(ObjectNode holder, Set<String> names, UnaryOperator<String> reference, Set<String> deps) {
        if (holder.get("models") instanceof ArrayNode models) {
            models.forEach(m -> {
                if (m instanceof ObjectNode o) {
                    rewrite(o, "model", names, reference, deps);
                }
            });
        }
        if (holder.get("slices") instanceof ArrayNode slices) {
            for (JsonNode s : slices) {
                if (s instanceof ObjectNode slice) {
                    rewrite(slice, "base_model", names, reference, deps);
                    if (slice.get("sources") instanceof ArrayNode sources) {
                        sources.forEach(src -> {
                            if (src instanceof ObjectNode o) {
                                rewrite(o, "model", names, reference, deps);
                            }
                        });
                    }
                }
            }
        }
    }

    /** One reference field: a string {@code path@rev+lora}, or the dict form {@code {model: path | {path, revision}, lora}}. */
    private static void rewrite(ObjectNode holder, String field, Set<String> names, UnaryOperator<String> reference, Set<String> deps) {
        JsonNode value = holder.get(field);
        if (value != null && value.isString()) {
            String text = value.stringValue();
            ModelReference r;
            try {
                r = ModelReference.parse(text);
            } catch (IllegalArgumentException e) {
                return; // the single-document parser has said so
            }
            if (names.contains(r.path())) {
                deps.add(r.path());
                // the path part only: a revision and an adapter stay as written
                holder.put(field, reference.apply(r.path()) + text.substring(r.path().length()));
            }
        } else if (value instanceof ObjectNode dict) {
            JsonNode model = dict.get("model");
            if (model != null && model.isString() && names.contains(model.stringValue())) {
                deps.add(model.stringValue());
                dict.put("model", reference.apply(model.stringValue()));
            } else if (model instanceof ObjectNode path && path.path("path").isString() && names.contains(path.get("path").stringValue())) {
                deps.add(path.get("path").stringValue());
                path.put("path", reference.apply(path.get("path").stringValue()));
            }
        }
    }

    /** A cycle among the stages as "a -> b -> a", or null. */
    private static String cycle(List<Stage> stages) {
        Map<String, Stage> byName = new LinkedHashMap<>();
        stages.forEach(s -> byName.put(s.name(), s));
        Set<String> done = new LinkedHashSet<>();
        for (Stage s : stages) {
            String found = visit(s.name(), byName, done, new ArrayList<>());
            if (found != null) {
                return found;
            }
        }
        return null;
    }

    private static String visit(String name, Map<String, Stage> byName, Set<String> done, List<String> path) {
        if (done.contains(name)) {
            return null;
        }
        if (path.contains(name)) {
            List<String> cycle = new ArrayList<>(path.subList(path.indexOf(name), path.size()));
            cycle.add(name);
            return String.join(" -> ", cycle);
        }
        path.add(name);
        for (String dep : byName.get(name).dependsOn()) {
            String found = visit(dep, byName, done, path);
            if (found != null) {
                return found;
            }
        }
        path.remove(path.size() - 1);
        done.add(name);
        return null;
    }
}
