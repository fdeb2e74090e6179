package dev.amalgam.pruningservice;

import io.swagger.v3.oas.annotations.media.ArraySchema;
import io.swagger.v3.oas.annotations.media.Schema;
import java.util.List;

/**
 * The comparison job spec (version 1): one evaluation, the same for every model, and the REPORT that tables the
 * results side by side as the papers do (perplexity, each task's accuracy, their average).
 *
 * @param models the MODEL artifacts, 1..16, each at most once, in the table's row order
 * @param dataset, seqLen, tasks, batchSize as in {@link EvaluationJobSpec}
 * @param name the name of the REPORT artifact
 */
@Schema(description = "An evaluation of several models, tabled side by side in a REPORT (JSON and Markdown)",
        example = """
                {"models": ["tiny", "tiny-pruned"], "dataset": "wiki", "seqLen": 32,
                 "tasks": [{"name": "piqa", "dataset": "piqa-validation", "format": "piqa", "limit": 100}],
                 "batchSize": 16, "name": "dense-vs-pruned"}""")
public record ComparisonJobSpec(
        @ArraySchema(arraySchema = @Schema(description = "MODEL artifact ids or names, in the table's row order",
                requiredMode = Schema.RequiredMode.REQUIRED), minItems = 1, maxItems = 16, uniqueItems = true)
        List<String> models,
        @Schema(description = "DATASET (one JSONL file) id or name for perplexity; omit for tasks only", nullable = true)
        String dataset,
        @Schema(description = "perplexity chunk length in tokens", minimum = "2", maximum = "131072", defaultValue = "2048")
        Integer seqLen,
        @ArraySchema(arraySchema = @Schema(description = "multiple-choice tasks, scored zero-shot", nullable = true))
        List<EvaluationJobSpec.Task> tasks,
        @Schema(description = "multiple-choice requests per forward", minimum = "1", maximum = "1024", defaultValue = "16")
        Integer batchSize,
        @Schema(description = "name of the REPORT artifact", requiredMode = Schema.RequiredMode.REQUIRED) String name) {

    static final int MAX_MODELS = 16;

    public ComparisonJobSpec {
        models = models == null ? null : List.copyOf(models);
        tasks = tasks == null ? null : List.copyOf(tasks);
    }

    /** The evaluation every model gets. */
    EvaluationJobSpec evaluation(String model) {
        return new EvaluationJobSpec(model, dataset, seqLen, tasks, batchSize);
    }
}
