package dev.amalgam.pruningservice;

import io.swagger.v3.oas.annotations.media.Schema;
import java.util.List;

/**
 * The result of an evaluation job (its {@code result} once SUCCEEDED): the perplexity fields are null without a
 * dataset, {@code tasks} is empty and {@code average} null without tasks.
 */
@Schema(description = "The result of an evaluation job", example = """
        {"perplexity": 9.87, "tokens": 286720, "chunks": 140, "totalNll": 655632.1, "seqLen": 2048,
         "tasks": [{"name": "piqa", "format": "piqa", "docs": 1838, "acc": 0.781, "accStderr": 0.0096,
                    "accNorm": 0.790, "accNormStderr": 0.0095},
                   {"name": "winogrande", "format": "winogrande", "docs": 1267, "acc": 0.691, "accStderr": 0.013,
                    "accNorm": null, "accNormStderr": null}],
         "average": 0.7405}""")
public record EvaluationJobResult(
        @Schema(description = "exp(totalNll / tokens); null without a dataset", requiredMode = Schema.RequiredMode.REQUIRED,
                nullable = true) Double perplexity,
        @Schema(description = "tokens scored; null without a dataset", requiredMode = Schema.RequiredMode.REQUIRED,
                nullable = true) Long tokens,
        @Schema(description = "windows of seqLen tokens evaluated; null without a dataset",
                requiredMode = Schema.RequiredMode.REQUIRED, nullable = true) Integer chunks,
        @Schema(description = "summed negative log-likelihood in nats; null without a dataset",
                requiredMode = Schema.RequiredMode.REQUIRED, nullable = true) Double totalNll,
        @Schema(description = "the window length used; null without a dataset", requiredMode = Schema.RequiredMode.REQUIRED,
                nullable = true) Integer seqLen,
        @Schema(description = "the multiple-choice tasks, in spec order (empty without tasks)",
                requiredMode = Schema.RequiredMode.REQUIRED) List<TaskScore> tasks,
        @Schema(description = "the plain mean over tasks of accNorm where the task has it, else acc; null without tasks",
                requiredMode = Schema.RequiredMode.REQUIRED, nullable = true) Double average) {

    public EvaluationJobResult {
        tasks = List.copyOf(tasks);
    }

    /** One task's metrics (lm-eval's acc, acc_norm and their standard errors). */
    @Schema(description = "A multiple-choice task's metrics")
    public record TaskScore(
            @Schema(description = "the task's name", requiredMode = Schema.RequiredMode.REQUIRED) String name,
            @Schema(description = "the record format", requiredMode = Schema.RequiredMode.REQUIRED) String format,
            @Schema(description = "documents scored", requiredMode = Schema.RequiredMode.REQUIRED) int docs,
            @Schema(description = "share of documents whose highest-log-likelihood choice is the gold one",
                    requiredMode = Schema.RequiredMode.REQUIRED) double acc,
            @Schema(description = "sample standard deviation of acc over sqrt(docs); null for one document",
                    requiredMode = Schema.RequiredMode.REQUIRED, nullable = true) Double accStderr,
            @Schema(description = "acc with each log-likelihood divided by the choice's length in characters; "
                    + "null where the task has no acc_norm (winogrande)", requiredMode = Schema.RequiredMode.REQUIRED,
                    nullable = true) Double accNorm,
            @Schema(description = "standard error of accNorm", requiredMode = Schema.RequiredMode.REQUIRED, nullable = true)
            Double accNormStderr) {
    }
}
