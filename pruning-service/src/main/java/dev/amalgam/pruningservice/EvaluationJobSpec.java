package dev.amalgam.pruningservice;

import dev.amalgam.modelengine.LlamaConfig;
import dev.amalgam.platform.web.SpecChecks;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * The evaluation job spec (version 1): perplexity of a model on a dataset.
 * <pre>{@code
 * {"model": "<MODEL artifact id or name>", "dataset": "<DATASET artifact id or name>", "seqLen": 2048}
 * }</pre>
 * {@code seqLen} is 2..131072 and at most the model's {@code max_position_embeddings}. The stored spec names both
 * artifacts by id.
 */
final class EvaluationJobSpec {

    static final String TYPE = "evaluate";
    static final int VERSION = 1;
    static final int DEFAULT_SEQ_LEN = 2048;
    static final int MAX_SEQ_LEN = 131_072;
    static final int DEFAULT_MAX_ATTEMPTS = 2;
    private static final List<String> FIELDS = List.of("model", "dataset", "seqLen", "priority", "maxAttempts");

    private EvaluationJobSpec() {
    }

    /** Problems of the spec on its own; returns the job settings (defaults where a value is bad). */
    static SpecChecks.JobSettings check(JsonNode spec, List<String> errors) {
        JsonNode seqLen = spec.get("seqLen");
        if (seqLen != null && !SpecChecks.isIntegerIn(seqLen, 2, MAX_SEQ_LEN)) {
            errors.add("seqLen: must be an integer between 2 and " + MAX_SEQ_LEN);
        }
        for (String field : spec.propertyNames()) {
            if (!FIELDS.contains(field)) {
                errors.add(field + ": unknown field (known: " + String.join(", ", FIELDS) + ")");
            }
        }
        return SpecChecks.jobSettings(spec, DEFAULT_MAX_ATTEMPTS, errors);
    }

    /** Problems of a valid spec on the model with {@code config}: the sequence must fit its positions. */
    static void checkFor(JsonNode spec, LlamaConfig config, List<String> errors) {
        if (seqLen(spec) > config.maxPositionEmbeddings()) {
            errors.add("seqLen: " + seqLen(spec) + " exceeds the model's max_position_embeddings "
                    + config.maxPositionEmbeddings());
        }
    }

    static int seqLen(JsonNode spec) {
        return spec.path("seqLen").asInt(DEFAULT_SEQ_LEN);
    }
}
