package dev.amalgam.pruningservice;

import io.swagger.v3.oas.annotations.media.Schema;

/**
 * The evaluation job spec (version 1): the perplexity of a model on a dataset.
 *
 * @param seqLen the chunk length in tokens, 2..131072 and at most the model's {@code max_position_embeddings};
 *               default 2048
 */
@Schema(description = "A perplexity evaluation of a model on a dataset",
        example = """
                {"model": "tiny", "dataset": "wiki", "seqLen": 32}""")
public record EvaluationJobSpec(
        @Schema(description = "MODEL artifact id or name", requiredMode = Schema.RequiredMode.REQUIRED) String model,
        @Schema(description = "DATASET (one JSONL file) id or name", requiredMode = Schema.RequiredMode.REQUIRED) String dataset,
        @Schema(description = "chunk length in tokens", minimum = "2", maximum = "131072", defaultValue = "2048") Integer seqLen) {

    static final int DEFAULT_SEQ_LEN = 2048;
    static final int MAX_SEQ_LEN = 131_072;
}
