package dev.amalgam.merge.plan;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The token-to-id map of a Hugging Face {@code tokenizer.json} (BPE/WordPiece vocab, Unigram list, added tokens). */
final class TokenVocab {

    private TokenVocab() {
    }

    /** The vocabulary of a model directory, or empty when it has no tokenizer.json. */
    static Optional<Map<String, Integer>> read(Path modelDir) {
        Path file = modelDir.resolve("tokenizer.json");
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        JsonNode root = JsonMapper.builder().build().readTree(file.toFile());
        Map<String, Integer> ids = new HashMap<>();
        JsonNode vocab = root.path("model").path("vocab");
        if (vocab.isObject()) {
            for (Map.Entry<String, JsonNode> e : vocab.properties()) {
                ids.put(e.getKey(), e.getValue().intValue());
            }
        } else if (vocab.isArray()) { // Unigram: [[piece, score], ...], id = position
            for (int i = 0; i < vocab.size(); i++) {
                ids.put(vocab.get(i).get(0).asString(), i);
            }
        }
        for (JsonNode t : root.path("added_tokens")) {
            ids.put(t.get("content").asString(), t.get("id").intValue());
        }
        return Optional.of(ids);
    }

    /** Inverts a vocabulary into id -> token for ids below {@code rows}. */
    static String[] byId(Map<String, Integer> vocab, int rows) {
        String[] tokens = new String[rows];
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            if (e.getValue() >= 0 && e.getValue() < rows) {
                tokens[e.getValue()] = e.getKey();
            }
        }
        return tokens;
    }
}
