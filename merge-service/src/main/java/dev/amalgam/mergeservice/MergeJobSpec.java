package dev.amalgam.mergeservice;

import dev.amalgam.merge.config.MergeConfig;
import dev.amalgam.merge.config.MergeConfigException;
import dev.amalgam.platform.web.SpecChecks;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The merge job spec (version 1), the same for the HTTP API and the stored job:
 * <pre>{@code
 * {
 *   "config": { ...mergekit's structure as JSON... }   // or "configYaml": "...mergekit YAML..."
 *   "output": "name-of-the-merged-model",                  // the MODEL artifact to publish (artifact name rules)
 *   "seed": 0,                                             // optional, for dare/della/arcee_fusion; a long
 *   "priority": 0, "maxAttempts": 2                        // optional job settings: -100..100, 1..10
 * }
 * }</pre>
 * Models in the config are artifact ids or names. Once validated, the stored spec also carries
 * {@code "artifacts": {reference: artifact id}}, so the job reads exactly the artifacts that were checked.
 */
final class MergeJobSpec {

    static final String TYPE = "merge";
    static final int VERSION = 1;
    static final int DEFAULT_MAX_ATTEMPTS = 2;

    private MergeJobSpec() {
    }

    /** Parses the config part, adding every problem to {@code errors}; null when it cannot be parsed. */
    static MergeConfig config(JsonNode spec, JsonMapper json, List<String> errors) {
        JsonNode config = spec.get("config");
        JsonNode yaml = spec.get("configYaml");
        if ((config == null) == (yaml == null)) {
            errors.add("config: give exactly one of 'config' (JSON) or 'configYaml' (mergekit YAML text)");
            return null;
        }
        try {
            if (yaml != null) {
                if (!yaml.isString()) {
                    errors.add("configYaml: must be a string holding mergekit YAML");
                    return null;
                }
                return MergeConfig.parseYaml(yaml.asString());
            }
            if (!config.isObject()) {
                errors.add("config: must be an object with mergekit's structure");
                return null;
            }
            return MergeConfig.parseJson(json.writeValueAsString(config));
        } catch (MergeConfigException e) {
            e.problems().forEach(p -> errors.add("config: " + p));
            return null;
        }
    }

    /** Fields outside the config; returns the job settings (defaults where a value is bad). */
    static SpecChecks.JobSettings checkOptions(JsonNode spec, List<String> errors) {
        JsonNode output = spec.get("output");
        if (output == null || !output.isString() || output.asString().isBlank()) {
            errors.add("output: the name of the merged MODEL artifact is required");
        } else {
            SpecChecks.checkOutputNames("output", Map.of("the merged model", output.asString()), errors);
        }
        JsonNode seed = spec.get("seed");
        if (seed != null && (!seed.isIntegralNumber() || !seed.canConvertToLong())) {
            errors.add("seed: must be an integer between " + Long.MIN_VALUE + " and " + Long.MAX_VALUE);
        }
        for (var it = spec.propertyNames().iterator(); it.hasNext(); ) {
            String field = it.next();
            if (!List.of("config", "configYaml", "output", "seed", "priority", "maxAttempts", "artifacts").contains(field)) {
                errors.add(field + ": unknown field (known: config, configYaml, output, seed, priority, maxAttempts)");
            }
        }
        return SpecChecks.jobSettings(spec, DEFAULT_MAX_ATTEMPTS, errors);
    }

    /** The spec to store: the request plus the resolved artifact of every model reference. */
    static ObjectNode stored(JsonNode request, Map<String, String> artifacts, JsonMapper json) {
        ObjectNode stored = (ObjectNode) request.deepCopy();
        stored.set("artifacts", json.valueToTree(artifacts));
        return stored;
    }

    static List<String> errors() {
        return new ArrayList<>();
    }
}
