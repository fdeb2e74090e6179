package dev.amalgam.fusionservice;

import io.swagger.v3.oas.annotations.media.Schema;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** The result of a fusion job (its {@code result} once SUCCEEDED). */
@Schema(description = "The result of a fusion job", example = """
        {"model": "tiny-wrpo", "report": "tiny-wrpo-report", "preferences": null,
         "stepsByStage": {"sft": 12, "wrpo": 24},
         "finalMetrics": {"sft/loss": 2.31, "wrpo/loss": 0.64, "wrpo/rewards/margins": 0.21},
         "resumed": false}""")
public record FusionJobResult(
        @Schema(description = "the name of the published trained MODEL", requiredMode = Schema.RequiredMode.REQUIRED) String model,
        @Schema(description = "the name of the published REPORT", requiredMode = Schema.RequiredMode.REQUIRED) String report,
        @Schema(description = "the name of the published DATASET of built preference records; null unless the job "
                + "built them from candidates", nullable = true) String preferences,
        @Schema(description = "optimizer steps per stage, by stage name", requiredMode = Schema.RequiredMode.REQUIRED)
        Map<String, Long> stepsByStage,
        @Schema(description = "each stage's last-step metrics and the last evaluation, as <stage>/<metric>",
                requiredMode = Schema.RequiredMode.REQUIRED) Map<String, Double> finalMetrics,
        @Schema(description = "whether the run resumed from a checkpoint of an earlier attempt",
                requiredMode = Schema.RequiredMode.REQUIRED) boolean resumed) {

    public FusionJobResult {
        // kept in stage order
        stepsByStage = Collections.unmodifiableMap(new LinkedHashMap<>(stepsByStage));
        finalMetrics = Collections.unmodifiableMap(new LinkedHashMap<>(finalMetrics));
    }
}
