package dev.amalgam.fusion;

import java.nio.file.Path;
import java.util.Map;

/**
 * A finished fusion job.
 *
 * @param modelDir the trained target as a Hugging Face checkpoint
 * @param report the training report (JSON) written beside it ({@code fusion_report.json})
 * @param stepsByStage optimizer steps run per stage
 * @param finalMetrics last step's metrics of each stage plus the last evaluation, by name
 * @param resumedFrom the checkpoint a resumed run started from, or null
 */
public record FusionResult(Path modelDir, Path report, Map<String, Long> stepsByStage,
        Map<String, Double> finalMetrics, Path resumedFrom) {
}
