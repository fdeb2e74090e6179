package dev.amalgam.pruningservice;

import io.swagger.v3.oas.annotations.media.Schema;
import java.util.List;

/** The result of a comparison job: the published REPORT and its table. */
@Schema(description = "The result of a comparison job", example = """
        {"report": "dense-vs-pruned", "columns": ["piqa"],
         "rows": [{"model": "tiny", "perplexity": 61.2, "tasks": [{"name": "piqa", "metric": "acc_norm", "value": 0.52}],
                   "average": 0.52},
                  {"model": "tiny-pruned", "perplexity": 70.4, "tasks": [{"name": "piqa", "metric": "acc_norm", "value": 0.5}],
                   "average": 0.5}],
         "markdown": "| Model | PPL | piqa | Avg. |\\n| --- | --- | --- | --- |\\n| tiny | 61.20 | 52.00 | 52.00 |\\n| tiny-pruned | 70.40 | 50.00 | 50.00 |\\n"}""")
public record ComparisonJobResult(
        @Schema(description = "the name of the published REPORT (report.json, report.md)",
                requiredMode = Schema.RequiredMode.REQUIRED) String report,
        @Schema(description = "the task names, in spec order (the table's columns after perplexity)",
                requiredMode = Schema.RequiredMode.REQUIRED) List<String> columns,
        @Schema(description = "one row per model, in spec order", requiredMode = Schema.RequiredMode.REQUIRED) List<Row> rows,
        @Schema(description = "the table as Markdown (report.md)", requiredMode = Schema.RequiredMode.REQUIRED) String markdown) {

    public ComparisonJobResult {
        columns = List.copyOf(columns);
        rows = List.copyOf(rows);
    }

    /** One model's numbers. */
    @Schema(description = "One model's row of the comparison")
    public record Row(
            @Schema(description = "the MODEL artifact's name", requiredMode = Schema.RequiredMode.REQUIRED) String model,
            @Schema(description = "perplexity on the dataset; null without one", requiredMode = Schema.RequiredMode.REQUIRED,
                    nullable = true) Double perplexity,
            @Schema(description = "each task's headline metric, in spec order", requiredMode = Schema.RequiredMode.REQUIRED)
            List<Cell> tasks,
            @Schema(description = "the mean of the tasks' headline metrics; null without tasks",
                    requiredMode = Schema.RequiredMode.REQUIRED, nullable = true) Double average) {

        public Row {
            tasks = List.copyOf(tasks);
        }
    }

    /** A task's headline metric: acc_norm where the task defines it, else acc (as the papers report). */
    @Schema(description = "A task's headline metric")
    public record Cell(
            @Schema(description = "the task's name", requiredMode = Schema.RequiredMode.REQUIRED) String name,
            @Schema(description = "acc_norm or acc", requiredMode = Schema.RequiredMode.REQUIRED,
                    allowableValues = {"acc_norm", "acc"}) String metric,
            @Schema(description = "the metric, a share in [0, 1]", requiredMode = Schema.RequiredMode.REQUIRED) double value) {
    }
}
