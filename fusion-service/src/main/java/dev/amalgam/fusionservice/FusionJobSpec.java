package dev.amalgam.fusionservice;

import dev.amalgam.fusion.FusionSpec;
import dev.amalgam.fusion.build.BuildSettings;
import dev.amalgam.fusion.InvalidFusionSpecException;
import java.util.List;
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
 * The training report is published as the REPORT artifact "{name}-report". The stored spec names artifacts by id.
 */
final class FusionJobSpec {

    static final String TYPE = "fuse";
    static final int VERSION = 1;
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
        try {
            return new BuildSettings(b.path("sftFraction").asDouble(d.sftFraction()), b.path("targetSamples").asInt(d.targetSamples()),
                    b.path("maxNewTokens").asInt(d.maxNewTokens()), b.path("temperature").asDouble(d.temperature()),
                    b.path("topP").asDouble(d.topP()), b.path("seed").asLong(d.seed()));
        } catch (IllegalArgumentException e) {
            errors.add("build: " + e.getMessage());
            return null;
        }
    }
}
