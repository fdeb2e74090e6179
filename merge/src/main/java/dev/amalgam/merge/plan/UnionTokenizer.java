package dev.amalgam.merge.plan;

import dev.amalgam.modelio.HfModelDir;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code tokenizer_source: union}, built as mergekit does: the base tokenizer unchanged, plus every token of the
 * other models it lacks, appended as added tokens (regular vocabulary first, then the models' own added tokens
 * with their flags), in model order. Tokens whose id is beyond a model's embedding rows are ignored.
 *
 * <p>Added tokens match their literal text: a byte-level BPE piece such as {@code "Ġword"} taken from another
 * model is matched as those characters, not re-derived by merges (mergekit has the same limitation).
 */
public final class UnionTokenizer {

    private static final JsonMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    private final Map<String, Integer> vocab;
    private final ObjectNode tokenizerJson;
    private final List<ObjectNode> appended;

    private UnionTokenizer(Map<String, Integer> vocab, ObjectNode tokenizerJson, List<ObjectNode> appended) {
        this.vocab = vocab;
        this.tokenizerJson = tokenizerJson;
        this.appended = appended;
    }

    /**
     * Builds the union.
     *
     * @param order     model references, the tokenizer base first
     * @param models    opened models
     * @param embedRows embedding rows of each model (ids at or beyond are unused)
     */
    static UnionTokenizer build(List<String> order, Map<String, HfModelDir> models, Map<String, Long> embedRows) {
        ObjectNode base = (ObjectNode) read(models.get(order.get(0)));
        Map<String, Integer> result = new HashMap<>(TokenVocab.read(models.get(order.get(0)).dir()).orElseThrow());
        Map<String, Boolean> outVocab = new LinkedHashMap<>();
        Map<String, JsonNode> outAdded = new LinkedHashMap<>();
        for (String ref : order) {
            JsonNode root = read(models.get(ref));
            long limit = embedRows.get(ref);
            Map<String, JsonNode> added = new HashMap<>();
            root.path("added_tokens").forEach(t -> added.put(t.get("content").asString(), t));
            Map<String, Integer> modelVocab = TokenVocab.read(models.get(ref).dir()).orElseThrow();
            modelVocab.entrySet().stream().sorted(Map.Entry.comparingByValue()).forEach(e -> {
                if (e.getValue() < limit && !added.containsKey(e.getKey())) {
                    outVocab.putIfAbsent(e.getKey(), true);
                }
            });
            for (JsonNode t : root.path("added_tokens")) {
                if (t.get("id").intValue() < limit) {
                    outAdded.putIfAbsent(t.get("content").asString(), t);
                }
            }
        }
        int next = result.values().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
        List<ObjectNode> appended = new java.util.ArrayList<>();
        for (String tok : outVocab.keySet()) {
            if (!outAdded.containsKey(tok) && !result.containsKey(tok)) {
                ObjectNode t = plainAddedToken(next, tok);
                appended.add(t);
                result.put(tok, next++);
            }
        }
        for (Map.Entry<String, JsonNode> e : outAdded.entrySet()) {
            if (!result.containsKey(e.getKey())) {
                ObjectNode t = (ObjectNode) e.getValue().deepCopy();
                t.put("id", next);
                appended.add(t);
                result.put(e.getKey(), next++);
            }
        }
        ArrayNode addedTokens = base.has("added_tokens") && base.get("added_tokens").isArray()
                ? (ArrayNode) base.get("added_tokens") : base.putArray("added_tokens");
        appended.forEach(addedTokens::add);
        return new UnionTokenizer(Map.copyOf(result), base, List.copyOf(appended));
    }

    /**
     * The tokenizer source's own tokenizer (its token ids below its embedding rows), as the starting point for
     * {@link #withAddedTokens}.
     */
    static UnionTokenizer ofDonor(HfModelDir donor, Map<String, Integer> vocab) {
        return new UnionTokenizer(Map.copyOf(vocab), (ObjectNode) read(donor), List.of());
    }

    /**
     * mergekit's {@code add_tokens} for the tokens {@code tokenizer.tokens} names, as the tokenizers library does
     * it: a token the vocabulary lacks is appended as a plain added token (not special, normalized, as transformers
     * adds a string), in config order; a token of the vocabulary that is not an added token yet becomes one with
     * its id ("if a token is already part of the vocabulary, we mark it as added").
     */
    UnionTokenizer withAddedTokens(java.util.Collection<String> tokens) {
        Map<String, Integer> result = new HashMap<>(vocab);
        ObjectNode json = tokenizerJson.deepCopy();
        ArrayNode addedTokens = json.has("added_tokens") && json.get("added_tokens").isArray()
                ? (ArrayNode) json.get("added_tokens") : json.putArray("added_tokens");
        java.util.Set<String> added = new java.util.HashSet<>();
        addedTokens.forEach(t -> added.add(t.path("content").asString()));
        List<ObjectNode> all = new java.util.ArrayList<>(appended);
        int next = size();
        for (String tok : tokens) {
            if (added.add(tok)) {
                ObjectNode t = plainAddedToken(result.containsKey(tok) ? result.get(tok) : next++, tok);
                addedTokens.add(t);
                all.add(t);
                result.put(tok, t.get("id").intValue());
            }
        }
        // the tokenizers library writes its added tokens by id
        List<JsonNode> sorted = new java.util.ArrayList<>();
        addedTokens.forEach(sorted::add);
        sorted.sort(java.util.Comparator.comparingInt(t -> t.path("id").intValue()));
        addedTokens.removeAll();
        sorted.forEach(addedTokens::add);
        return new UnionTokenizer(Map.copyOf(result), json, List.copyOf(all));
    }

    private static ObjectNode plainAddedToken(int id, String content) {
        ObjectNode t = JSON.createObjectNode();
        t.put("id", id);
        t.put("content", content);
        t.put("single_word", false);
        t.put("lstrip", false);
        t.put("rstrip", false);
        t.put("normalized", true);
        t.put("special", false);
        return t;
    }

    /** Token to id over the whole union. */
    Map<String, Integer> vocab() {
        return vocab;
    }

    /** Number of ids (embedding rows of the output). */
    public int size() {
        return vocab.values().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
    }

    /** Tokens appended to the base tokenizer (the union's and those of {@code tokenizer.tokens}). */
    public int appendedCount() {
        return appended.size();
    }

    /** Writes tokenizer.json and adds the new tokens to tokenizer_config.json's added_tokens_decoder. */
    public void write(Path dir) throws IOException {
        Files.writeString(dir.resolve("tokenizer.json"), JSON.writeValueAsString(tokenizerJson) + "\n");
        Path tc = dir.resolve("tokenizer_config.json");
        if (Files.isRegularFile(tc)) {
            ObjectNode cfg = (ObjectNode) JSON.readTree(tc.toFile());
            if (cfg.get("added_tokens_decoder") instanceof ObjectNode decoder) {
                for (ObjectNode t : appended) {
                    ObjectNode d = decoder.putObject(Integer.toString(t.get("id").intValue()));
                    for (String key : List.of("content", "lstrip", "normalized", "rstrip", "single_word", "special")) {
                        if (t.has(key)) {
                            d.set(key, t.get(key));
                        }
                    }
                }
                Files.writeString(tc, JSON.writeValueAsString(cfg) + "\n");
            }
        }
    }

    private static JsonNode read(HfModelDir m) {
        return JSON.readTree(m.dir().resolve("tokenizer.json").toFile());
    }
}
