package dev.amalgam.pruningservice;

import io.swagger.v3.oas.annotations.media.ArraySchema;
import io.swagger.v3.oas.annotations.media.Schema;
import java.util.List;

/**
 * The comparison job spec (version 1): one evaluation, the same for every model, and/or finished judgments of the
 * models, and the REPORT that tables the results side by side as the papers do (perplexity, each task's accuracy,
 * their average; AlpacaEval 2 LC and WR, Arena-Hard, MT-Bench).
 *
 * @param models the MODEL artifacts, 1..16, each at most once, in the table's row order
 * @param dataset, seqLen, tasks, batchSize as in {@link EvaluationJobSpec}; all omitted for judgments only
 * @param judgments judge jobs' judgments DATASETs, each for one of the models; null or empty for none
 * @param name the name of the REPORT artifact
 */
@Schema(description = "An evaluation of several models, tabled side by side in a REPORT (JSON and Markdown)",
        example = """
                {"models": ["tiny", "tiny-pruned"], "dataset": "wiki", "seqLen": 32,
                 "tasks": [{"name": "piqa", "dataset": "piqa-validation", "format": "piqa", "limit": 100}],
                 "batchSize": 16,
                 "judgments": [{"model": "tiny", "benchmark": "mt_bench", "dataset": "tiny-mt-bench-judged"},
                               {"model": "tiny-pruned", "benchmark": "mt_bench", "dataset": "tiny-pruned-mt-bench-judged"}],
                 "name": "dense-vs-pruned"}""")
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
        @ArraySchema(arraySchema = @Schema(description = "finished judgments to table beside the evaluation (or alone)",
                nullable = true)) List<Judgment> judgments,
        @Schema(description = "name of the REPORT artifact", requiredMode = Schema.RequiredMode.REQUIRED) String name) {

    static final int MAX_MODELS = 16;
    /** Every model judged on each of the table's three benchmarks. */
    static final int MAX_JUDGMENTS = 3 * MAX_MODELS;

    public ComparisonJobSpec {
        models = models == null ? null : List.copyOf(models);
        tasks = tasks == null ? null : List.copyOf(tasks);
        judgments = judgments == null ? null : List.copyOf(judgments);
    }

    /** Whether the models are evaluated (perplexity and/or tasks), not only tabled with their judgments. */
    boolean evaluates() {
        return dataset != null || (tasks != null && !tasks.isEmpty());
    }

    /**
     * A finished judgment of one of the models: the judgments DATASET a judge job published.
     *
     * @param model the model it judged, as written in {@code models} (or another reference to the same artifact)
     * @param benchmark what it was judged as: mt_bench, alpaca_eval, alpaca_eval_weighted or arena_hard (checked
     *                  against the records)
     * @param dataset the judgments DATASET id or name
     */
    @Schema(description = "A judge job's judgments DATASET for one of the models")
    public record Judgment(
            @Schema(description = "the model judged, one of models", requiredMode = Schema.RequiredMode.REQUIRED) String model,
            @Schema(description = "the benchmark judged", requiredMode = Schema.RequiredMode.REQUIRED,
                    allowableValues = {"mt_bench", "alpaca_eval", "alpaca_eval_weighted", "arena_hard"}) String benchmark,
            @Schema(description = "the judgments DATASET id or name (a judge job's output)",
                    requiredMode = Schema.RequiredMode.REQUIRED) String dataset) {
    }

    /** The evaluation every model gets. */
    EvaluationJobSpec evaluation(String model) {
        return new EvaluationJobSpec(model, dataset, seqLen, tasks, batchSize);
    }
}
