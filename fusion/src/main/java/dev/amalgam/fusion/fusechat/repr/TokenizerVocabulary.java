package dev.amalgam.fusion.fusechat.repr;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The raw token strings of a {@code tokenizer.json} (what {@code convert_ids_to_tokens} returns) and its length
 * ({@code len(tokenizer)}: the largest id plus one over the model's vocabulary and the added tokens). BPE,
 * WordPiece and WordLevel keep {@code model.vocab} as an object, Unigram as a list of [piece, score].
 */
public record TokenizerVocabulary(Map<String, Integer> ids, int size) {

    public TokenizerVocabulary {
        ids = Map.copyOf(ids);
    }

    /** Reads {@code modelDir/tokenizer.json}. */
    public static TokenizerVocabulary read(Path modelDir) {
        Path file = modelDir.resolve("tokenizer.json");
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(modelDir + " has no tokenizer.json");
        }
        JsonNode root;
        try {
            root = JsonMapper.builder().build().readTree(Files.readString(file));
        } catch (JacksonException e) {
            throw new IllegalArgumentException(file + ": not JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        Map<String, Integer> ids = new HashMap<>();
        JsonNode vocab = root.path("model").path("vocab");
        if (vocab.isObject()) {
            for (Map.Entry<String, JsonNode> e : vocab.properties()) {
                ids.put(e.getKey(), e.getValue().asInt());
            }
        } else if (vocab.isArray()) {
            for (int i = 0; i < vocab.size(); i++) {
                ids.put(vocab.get(i).get(0).asString(), i);
            }
        } else {
            throw new IllegalArgumentException(file + ": model.vocab is neither an object nor a list");
        }
        for (JsonNode added : root.path("added_tokens").values()) {
            ids.put(added.path("content").asString(), added.path("id").asInt()); // added tokens win, as get_vocab()
        }
        int size = ids.values().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
        return new TokenizerVocabulary(ids, size);
    }

    /** The id of a raw token string, or -1. */
    public int id(String token) {
        Integer id = ids.get(token);
        return id == null ? -1 : id;
    }
}
