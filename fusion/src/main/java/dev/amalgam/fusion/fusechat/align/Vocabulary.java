package dev.amalgam.fusion.fusechat.align;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A tokenizer's vocabulary as the alignment needs it: the raw token string of every id (what Hugging Face's
 * {@code convert_ids_to_tokens} returns, word markers included), the word marker of the tokenizer family and
 * the special ids.
 *
 * <p>The size is the tokenizer's length ({@code len(tokenizer)}: the base vocabulary plus added tokens), not
 * config.json's {@code vocab_size}; a model may have more embedding rows than that (e.g. Qwen), and those
 * padding rows have no token string. When two ids carry the same string, {@link #id(String)} answers the
 * higher id, as Hugging Face's {@code get_vocab()} does (added tokens override the base vocabulary).
 */
public final class Vocabulary {

    /** SentencePiece's word marker U+2581 (Llama, Mistral). */
    public static final String SENTENCEPIECE_MARKER = "\u2581";
    /** Byte-level BPE's marker for a leading space, U+0120 (GPT-2, Llama 3, Qwen). */
    public static final String BYTE_LEVEL_MARKER = "\u0120";
    /** Marks a special id the tokenizer does not have. */
    public static final int NONE = -1;

    private final List<String> tokens;
    private final String wordMarker;
    private final int bosId;
    private final int eosId;
    private final int unkId;
    private final Map<String, Integer> ids;

    /**
     * @param tokens raw token string of each id, {@code tokens.get(id)}, size = len(tokenizer)
     * @param wordMarker {@link #SENTENCEPIECE_MARKER} or {@link #BYTE_LEVEL_MARKER} (any non-empty string)
     * @param bosId bos id or {@link #NONE}
     * @param eosId eos id or {@link #NONE}
     * @param unkId unk id or {@link #NONE}
     */
    public Vocabulary(List<String> tokens, String wordMarker, int bosId, int eosId, int unkId) {
        if (tokens == null || tokens.isEmpty()) {
            throw new IllegalArgumentException("vocabulary tokens must not be empty");
        }
        if (wordMarker == null || wordMarker.isEmpty()) {
            throw new IllegalArgumentException("wordMarker must be a non-empty string (U+2581 or U+0120)");
        }
        this.tokens = List.copyOf(tokens);
        this.wordMarker = wordMarker;
        this.bosId = checkSpecial("bosId", bosId, tokens.size());
        this.eosId = checkSpecial("eosId", eosId, tokens.size());
        this.unkId = checkSpecial("unkId", unkId, tokens.size());
        Map<String, Integer> map = new HashMap<>();
        for (int id = 0; id < this.tokens.size(); id++) {
            map.put(this.tokens.get(id), id); // a later id wins, as get_vocab()
        }
        this.ids = map;
    }

    private static int checkSpecial(String field, int id, int size) {
        if (id != NONE && (id < 0 || id >= size)) {
            throw new IllegalArgumentException(field + " " + id + " is outside the vocabulary [0, " + size + ")");
        }
        return id;
    }

    /** len(tokenizer): the number of ids with a token string. */
    public int size() {
        return tokens.size();
    }

    public String token(int id) {
        if (id < 0 || id >= tokens.size()) {
            throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, " + tokens.size()
                    + "); top-k ids must come from the first len(tokenizer) logits");
        }
        return tokens.get(id);
    }

    /** The id of a raw token string, or {@link #NONE}. */
    public int id(String token) {
        Integer id = ids.get(token);
        return id == null ? NONE : id;
    }

    public boolean contains(String token) {
        return ids.containsKey(token);
    }

    public List<String> tokens() {
        return tokens;
    }

    public String wordMarker() {
        return wordMarker;
    }

    public int bosId() {
        return bosId;
    }

    public int eosId() {
        return eosId;
    }

    public int unkId() {
        return unkId;
    }
}
