package dev.amalgam.pruningservice;

import io.swagger.v3.oas.annotations.media.ArraySchema;
import io.swagger.v3.oas.annotations.media.Schema;
import java.util.List;

/**
 * The evaluation job spec (version 1): the perplexity of a model on a dataset, zero-shot multiple-choice tasks scored
 * as lm-evaluation-harness 0.4 scores them, or both. At least one of {@code dataset} and {@code tasks} is given.
 *
 * @param dataset the perplexity dataset, or null for tasks only
 * @param seqLen the perplexity chunk length in tokens, 2..131072 and at most the model's
 *               {@code max_position_embeddings}; default 2048 (checked only with a dataset)
 * @param tasks the multiple-choice tasks, or null; names are unique
 * @param batchSize choices scored per forward, 1..1024; default 16
 */
@Schema(description = "An evaluation of a model: perplexity on a dataset, multiple-choice tasks (lm-eval style), or both",
        example = """
                {"model": "tiny", "dataset": "wiki", "seqLen": 32,
                 "tasks": [{"name": "piqa", "dataset": "piqa-validation", "format": "piqa", "limit": 100}], "batchSize": 16}""")
public record EvaluationJobSpec(
        @Schema(description = "MODEL artifact id or name", requiredMode = Schema.RequiredMode.REQUIRED) String model,
        @Schema(description = "DATASET (one JSONL file, \"text\" or \"input_ids\" rows) id or name for perplexity; "
                + "omit for tasks only", nullable = true) String dataset,
        @Schema(description = "perplexity chunk length in tokens", minimum = "2", maximum = "131072", defaultValue = "2048")
        Integer seqLen,
        @ArraySchema(arraySchema = @Schema(description = "multiple-choice tasks, scored zero-shot", nullable = true))
        List<Task> tasks,
        @Schema(description = "multiple-choice requests per forward", minimum = "1", maximum = "1024", defaultValue = "16")
        Integer batchSize) {

    static final int DEFAULT_SEQ_LEN = 2048;
    static final int MAX_SEQ_LEN = 131_072;
    static final int DEFAULT_BATCH_SIZE = 16;
    static final int MAX_BATCH_SIZE = 1024;
    static final int MAX_TASKS = 64;

    public EvaluationJobSpec {
        tasks = tasks == null ? null : List.copyOf(tasks);
    }

    /**
     * One multiple-choice task.
     *
     * @param name the task's name in the result
     * @param dataset the DATASET (one JSONL file) with its records
     * @param format the record layout: generic, piqa, winogrande, hellaswag, arc_easy or arc_challenge
     * @param limit the first {@code limit} records only; null for all
     */
    @Schema(description = "A multiple-choice task: a JSONL dataset in one of the record formats")
    public record Task(
            @Schema(description = "the task's name in the result (unique in the job)", requiredMode = Schema.RequiredMode.REQUIRED)
            String name,
            @Schema(description = "DATASET (one JSONL file) id or name", requiredMode = Schema.RequiredMode.REQUIRED) String dataset,
            @Schema(description = "record layout", requiredMode = Schema.RequiredMode.REQUIRED,
                    allowableValues = {"generic", "piqa", "winogrande", "hellaswag", "arc_easy", "arc_challenge"})
            String format,
            @Schema(description = "score only the first limit records", minimum = "1", maximum = "1000000000", nullable = true)
            Integer limit) {
    }
}
