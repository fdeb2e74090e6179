package dev.amalgam.fusionservice;

import dev.amalgam.fusion.FusionSpec;
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
 * The training report is published as the REPORT artifact "{name}-report". The stored spec names artifacts by id.
 */
final class FusionJobSpec {

    static final String TYPE = "fuse";
    static final int VERSION = 1;
    static final Set<String> PLATFORM_FIELDS = Set.of("target", "data", "evalData", "name", "priority", "maxAttempts");

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
}
