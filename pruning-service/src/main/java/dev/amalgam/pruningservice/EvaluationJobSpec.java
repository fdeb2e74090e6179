package dev.amalgam.pruningservice;

import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * The evaluation job spec (version 1): perplexity of a model on a dataset.
 * <pre>{@code
 * {"model": "<MODEL artifact id or name>", "dataset": "<DATASET artifact id or name>", "seqLen": 2048}
 * }</pre>
 * The stored spec names both artifacts by id.
 */
final class EvaluationJobSpec {

    static final String TYPE = "evaluate";
    static final int VERSION = 1;
    static final int DEFAULT_SEQ_LEN = 2048;
    private static final List<String> FIELDS = List.of("model", "dataset", "seqLen", "priority", "maxAttempts");

    private EvaluationJobSpec() {
    }

    static void check(JsonNode spec, List<String> errors) {
        JsonNode seqLen = spec.get("seqLen");
        if (seqLen != null && (!seqLen.isIntegralNumber() || seqLen.asInt() < 2 || seqLen.asInt() > 131072)) {
            errors.add("seqLen: must be an integer between 2 and 131072");
        }
        JsonNode maxAttempts = spec.get("maxAttempts");
        if (maxAttempts != null && (!maxAttempts.isIntegralNumber() || maxAttempts.asInt() < 1 || maxAttempts.asInt() > 10)) {
            errors.add("maxAttempts: must be an integer between 1 and 10");
        }
        for (String field : spec.propertyNames()) {
            if (!FIELDS.contains(field)) {
                errors.add(field + ": unknown field (known: " + String.join(", ", FIELDS) + ")");
            }
        }
    }

    static int seqLen(JsonNode spec) {
        return spec.path("seqLen").asInt(DEFAULT_SEQ_LEN);
    }
}
