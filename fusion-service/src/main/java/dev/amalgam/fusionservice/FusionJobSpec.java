package dev.amalgam.fusionservice;

import dev.amalgam.fusion.FusionSpec;
import dev.amalgam.fusion.build.BuildSettings;
import dev.amalgam.fusion.InvalidFusionSpecException;
import dev.amalgam.platform.web.SpecChecks;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The fusion job spec (version 1): the fusion library's training spec (stages, loss, epochs, lr, beta,
 * alphaEnd, batchSize, lora, ...) plus the job's inputs and output:
 * <pre>{@code
 * {"target": "llama-8b-instruct", "data": "fusion-prefs", "evalData": "fusion-prefs-eval",   // artifacts
 *  "name": "llama-8b-wrpo",                                                                    // trained MODEL
 *  "stages": ["sft", "wrpo"], "loss": "wrpo", "beta": 0.01, "alphaEnd": 0.1, "lr": 3e-7}
 * }</pre>
 * Instead of {@code data} (preference records), a job can start from {@code candidates}: prompts with scored
 * (or, with {@code rewardModel}, unscored) source responses; it then builds the preference data as the reference
 * does (a third of the prompts for SFT, on-policy samples of the SFT model ranked by the reward model), with the
 * optional {@code build} settings (sftFraction, targetSamples, maxNewTokens, temperature, topP, seed), and also
 * publishes the built records as the DATASET "{name}-preferences".
 * The training report is published as the REPORT artifact "{name}-report"; every published name must follow the
 * artifact name rules. {@code priority} is -100..100 (default 0), {@code maxAttempts} 1..10 (default 3); the target's
 * {@code max_position_embeddings} bounds {@code maxLength} and {@code build.maxNewTokens}. The stored spec names
 * artifacts by id.
 */
final class FusionJobSpec {

    static final String TYPE = "fuse";
    static final int VERSION = 1;
    static final int DEFAULT_MAX_ATTEMPTS = 3;
    static final Set<String> PLATFORM_FIELDS = Set.of("target", "data", "candidates", "rewardModel", "build", "evalData", "name",
            "priority", "maxAttempts");

    private FusionJobSpec() {
    }

    /** The training spec: the request without the platform's fields; problems are added to {@code errors}. */
    static FusionSpec trainingSpec(JsonNode spec, List<String> errors) {
        ObjectNode training = (ObjectNode) spec.deepCopy();
        PLATFORM_FIELDS.forEach(training::remove);
        try {
            return FusionSpec.fromJson(training);
        } catch (InvalidFusionSpecException e) {
            errors.addAll(e.problems());
            return null;
        }
    }

    static String reportName(String modelName) {
        return modelName + "-report";
    }

    static String preferencesName(String modelName) {
        return modelName + "-preferences";
    }

    /** The names the job publishes, by what they name; the built records only when it starts from candidates. */
    static Map<String, String> outputNames(String name, boolean fromCandidates) {
        Map<String, String> names = new LinkedHashMap<>();
        names.put("the trained model", name);
        names.put("the report", reportName(name));
        if (fromCandidates) {
            names.put("the built preference records", preferencesName(name));
        }
        return names;
    }

    /** The data-construction settings of a {@code candidates} job: the reference's, overridden by {@code build}. */
    static BuildSettings buildSettings(JsonNode spec, List<String> errors) {
        BuildSettings d = BuildSettings.reference();
        JsonNode b = spec.path("build");
        if (!b.isMissingNode() && !b.isObject()) {
            errors.add("build: must be an object (sftFraction, targetSamples, maxNewTokens, temperature, topP, seed)");
            return null;
        }
        for (String field : b.propertyNames()) {
            if (!List.of("sftFraction", "targetSamples", "maxNewTokens", "temperature", "topP", "seed").contains(field)) {
                errors.add("build." + field + ": unknown field (known: sftFraction, targetSamples, maxNewTokens, temperature, topP, seed)");
            }
        }
        // typed reads: asInt() would truncate 1.5, read "7" as 7 and throw on 2147483648
        List<String> problems = new ArrayList<>();
        double sftFraction = number(b, "sftFraction", d.sftFraction(), problems);
        int targetSamples = integer(b, "targetSamples", d.targetSamples(), 2, BuildSettings.MAX_TARGET_SAMPLES, problems);
        int maxNewTokens = integer(b, "maxNewTokens", d.maxNewTokens(), 0, BuildSettings.MAX_NEW_TOKENS, problems);
        double temperature = number(b, "temperature", d.temperature(), problems);
        double topP = number(b, "topP", d.topP(), problems);
        JsonNode seedNode = b.get("seed");
        long seed = d.seed();
        if (seedNode != null && !seedNode.isNull()) {
            if (seedNode.isIntegralNumber() && seedNode.canConvertToLong()) {
                seed = seedNode.longValue();
            } else {
                problems.add("build.seed: must be an integer between " + Long.MIN_VALUE + " and " + Long.MAX_VALUE);
            }
        }
        errors.addAll(problems);
        if (!problems.isEmpty()) {
            return null;
        }
        try {
            return new BuildSettings(sftFraction, targetSamples, maxNewTokens, temperature, topP, seed);
        } catch (IllegalArgumentException e) {
            errors.add("build: " + e.getMessage());
            return null;
        }
    }

    private static int integer(JsonNode b, String field, int fallback, int min, int max, List<String> problems) {
        JsonNode n = b.get(field);
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (!SpecChecks.isIntegerIn(n, min, max)) {
            problems.add("build." + field + ": must be an integer between " + min + " and " + max + ", got " + n);
            return fallback;
        }
        return n.intValue();
    }

    private static double number(JsonNode b, String field, double fallback, List<String> problems) {
        JsonNode n = b.get(field);
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (!n.isNumber() || !Double.isFinite(n.doubleValue())) {
            problems.add("build." + field + ": must be a finite number, got " + n);
            return fallback;
        }
        return n.doubleValue();
    }
}
