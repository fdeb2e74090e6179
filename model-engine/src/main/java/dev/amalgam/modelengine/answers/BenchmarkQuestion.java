package dev.amalgam.modelengine.answers;

import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * One question of a benchmark's question file, as the answer generation needs it.
 *
 * @param id the question's id as the file spells it (MT-Bench {@code question_id}, Arena-Hard {@code uid}); null
 *           for AlpacaEval, whose records have no id (the answer file keeps their order instead)
 * @param category the question's category, or null (MT-Bench picks its temperature by it)
 * @param turns the user turns, in order (MT-Bench has two, the others one)
 * @param record the record as read, for the fields an answer file copies (AlpacaEval's {@code dataset})
 */
public record BenchmarkQuestion(JsonNode id, String category, List<String> turns, JsonNode record) {

    public BenchmarkQuestion {
        turns = List.copyOf(turns);
        if (turns.isEmpty()) {
            throw new IllegalArgumentException("a question needs at least one turn");
        }
    }
}
