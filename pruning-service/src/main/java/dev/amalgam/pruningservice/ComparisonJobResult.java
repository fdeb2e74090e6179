package dev.amalgam.pruningservice;

import io.swagger.v3.oas.annotations.media.Schema;
import java.util.List;

/** The result of a comparison job: the published REPORT and its table. */
@Schema(description = "The result of a comparison job", example = """
        {"report": "dense-vs-pruned", "columns": ["piqa"], "judgeColumns": ["mt_bench"],
         "rows": [{"model": "tiny", "perplexity": 61.2, "tasks": [{"name": "piqa", "metric": "acc_norm", "value": 0.52}],
                   "average": 0.52, "alpacaEvalLcWinRate": null, "alpacaEvalWinRate": null, "arenaHardScore": null,
                   "mtBenchScore": 3.5},
                  {"model": "tiny-pruned", "perplexity": 70.4, "tasks": [{"name": "piqa", "metric": "acc_norm", "value": 0.5}],
                   "average": 0.5, "alpacaEvalLcWinRate": null, "alpacaEvalWinRate": null, "arenaHardScore": null,
                   "mtBenchScore": 3.25}],
         "judgments": [{"model": "tiny", "benchmark": "mt_bench", "dataset": "tiny-mt-bench-judged", "judged": 160,
                        "unparsed": 0, "mtBench": {"overall": 3.5, "turn1": 3.6, "turn2": 3.4, "categories": []},
                        "alpacaEval": null, "arenaHard": null},
                       {"model": "tiny-pruned", "benchmark": "mt_bench", "dataset": "tiny-pruned-mt-bench-judged",
                        "judged": 160, "unparsed": 2, "mtBench": {"overall": 3.25, "turn1": 3.3, "turn2": 3.2,
                        "categories": []}, "alpacaEval": null, "arenaHard": null}],
         "markdown": "| Model | PPL | piqa | Avg. | MT-Bench |\\n| --- | --- | --- | --- | --- |\\n| tiny | 61.20 | 52.00 | 52.00 | 3.50 |\\n| tiny-pruned | 70.40 | 50.00 | 50.00 | 3.25 |\\n"}""")
public record ComparisonJobResult(
        @Schema(description = "the name of the published REPORT (report.json, report.md)",
                requiredMode = Schema.RequiredMode.REQUIRED) String report,
        @Schema(description = "the task names, in spec order (the table's columns after perplexity)",
                requiredMode = Schema.RequiredMode.REQUIRED) List<String> columns,
        @Schema(description = "the judged benchmarks tabled, in the table's order: alpaca_eval (LC and WR), arena_hard, "
                + "mt_bench; empty without judgments", requiredMode = Schema.RequiredMode.REQUIRED) List<String> judgeColumns,
        @Schema(description = "one row per model, in spec order", requiredMode = Schema.RequiredMode.REQUIRED) List<Row> rows,
        @Schema(description = "each judgment's full report, in spec order (empty without judgments)",
                requiredMode = Schema.RequiredMode.REQUIRED) List<Judgment> judgments,
        @Schema(description = "the table as Markdown (report.md)", requiredMode = Schema.RequiredMode.REQUIRED) String markdown) {

    public ComparisonJobResult {
        columns = List.copyOf(columns);
        judgeColumns = List.copyOf(judgeColumns);
        rows = List.copyOf(rows);
        judgments = List.copyOf(judgments);
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
                    requiredMode = Schema.RequiredMode.REQUIRED, nullable = true) Double average,
            @Schema(description = "AlpacaEval 2 length-controlled win rate in percent (the judge report's "
                    + "lengthControlledWinRate); null without an AlpacaEval judgment", requiredMode = Schema.RequiredMode.REQUIRED,
                    nullable = true) Double alpacaEvalLcWinRate,
            @Schema(description = "AlpacaEval 2 win rate in percent (winRate); null without an AlpacaEval judgment",
                    requiredMode = Schema.RequiredMode.REQUIRED, nullable = true) Double alpacaEvalWinRate,
            @Schema(description = "Arena-Hard score in percent against its baseline (score); null without an Arena-Hard "
                    + "judgment", requiredMode = Schema.RequiredMode.REQUIRED, nullable = true) Double arenaHardScore,
            @Schema(description = "MT-Bench mean rating, 1..10 (overall); null without an MT-Bench judgment or with no "
                    + "rating read", requiredMode = Schema.RequiredMode.REQUIRED, nullable = true) Double mtBenchScore) {

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

    /**
     * A judgment's report, computed from its records as the judge job computes its result ({@link JudgeJobResult}
     * without {@code judgeModel}, which the judgments file does not record); exactly one of the scores is set.
     */
    @Schema(description = "A judgment's report, as the judge job's result")
    public record Judgment(
            @Schema(description = "the MODEL artifact's name", requiredMode = Schema.RequiredMode.REQUIRED) String model,
            @Schema(description = "the benchmark judged, as read from the records", requiredMode = Schema.RequiredMode.REQUIRED)
            String benchmark,
            @Schema(description = "the judgments DATASET's name", requiredMode = Schema.RequiredMode.REQUIRED) String dataset,
            @Schema(description = "judgment records", requiredMode = Schema.RequiredMode.REQUIRED) int judged,
            @Schema(description = "answers whose verdict could not be read", requiredMode = Schema.RequiredMode.REQUIRED)
            int unparsed,
            @Schema(description = "MT-Bench scores", requiredMode = Schema.RequiredMode.REQUIRED, nullable = true)
            JudgeJobResult.MtBenchScores mtBench,
            @Schema(description = "AlpacaEval win rates", requiredMode = Schema.RequiredMode.REQUIRED, nullable = true)
            JudgeJobResult.AlpacaEvalScores alpacaEval,
            @Schema(description = "Arena-Hard score", requiredMode = Schema.RequiredMode.REQUIRED, nullable = true)
            JudgeJobResult.ArenaHardScores arenaHard) {
    }
}
