package dev.amalgam.modelengine.tiny;

import java.util.List;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Builds a real Hugging Face {@code tokenizer.json}: GPT-2 style byte-level BPE whose vocabulary is the 256
 * byte symbols (id = byte value, so any UTF-8 text round-trips) followed by special tokens, with no merges
 * ({@link TinyVocabulary#BYTES}), or with {@link #BPE_MERGES} ({@link TinyVocabulary#BPE}): their tokens take the ids
 * of the 13 bytes that UTF-8 never uses (0xC0, 0xC1, 0xF5..0xFF), so the vocabulary keeps its size, any UTF-8 text
 * still round-trips, and English text tokenises into other, fewer tokens than with bytes alone.
 * A {@code TemplateProcessing} post-processor prepends the BOS token when special tokens are requested.
 */
final class ByteLevelTokenizerJson {

    static final String BOS = "<s>";
    static final String EOS = "</s>";
    static final String PAD = "<pad>";
    /** Special tokens after the 256 bytes, in id order. */
    static final List<String> SPECIALS = List.of(BOS, EOS, PAD, "<|system|>", "<|user|>", "<|assistant|>");
    /**
     * The Llama-3 names of the same six slots (BOS, end of turn = EOS, PAD, then the header markers), for models
     * whose code looks for Llama-3's chat markers (ArmoRM's gating).
     */
    static final List<String> LLAMA3_SPECIALS = List.of("<|begin_of_text|>", "<|eot_id|>",
            "<|finetune_right_pad_id|>", "<|start_header_id|>", "<|end_header_id|>", "<|end_of_text|>");

    /** The merges of the BPE variant, in priority order (left and right symbol; "\u0120" is GPT-2's space). */
    static final List<String[]> BPE_MERGES = List.of(new String[] {"\u0120", "t"}, new String[] {"h", "e"},
            new String[] {"\u0120t", "he"}, new String[] {"i", "n"}, new String[] {"e", "r"}, new String[] {"a", "n"},
            new String[] {"\u0120", "a"}, new String[] {"o", "n"}, new String[] {"r", "e"}, new String[] {"\u0120", "s"},
            new String[] {"e", "n"}, new String[] {"a", "t"}, new String[] {"o", "r"});

    /** The bytes no UTF-8 text contains, whose ids the BPE variant's merged tokens take (in merge order). */
    static final int[] FREE_BYTES = {0xC0, 0xC1, 0xF5, 0xF6, 0xF7, 0xF8, 0xF9, 0xFA, 0xFB, 0xFC, 0xFD, 0xFE, 0xFF};

    private ByteLevelTokenizerJson() {
    }

    static int vocabSize() {
        return 256 + SPECIALS.size();
    }

    static int idOf(String special) {
        return idOf(SPECIALS, special);
    }

    /** The id of {@code special} in a tokenizer built with {@code specials} (BOS, EOS, PAD first). */
    static int idOf(List<String> specials, String special) {
        int i = specials.indexOf(special);
        if (i < 0) {
            throw new IllegalArgumentException("not a special token: " + special);
        }
        return 256 + i;
    }

    /** GPT-2's bytes_to_unicode: printable bytes map to themselves, the rest to code points from 256 up. */
    static char byteSymbol(int b) {
        if ((b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)) {
            return (char) b;
        }
        int n = 0;
        for (int i = 0; i < b; i++) {
            if (!((i >= '!' && i <= '~') || (i >= 0xA1 && i <= 0xAC) || (i >= 0xAE && i <= 0xFF))) {
                n++;
            }
        }
        return (char) (256 + n);
    }

    static String build(JsonMapper mapper) {
        return build(mapper, SPECIALS, TinyVocabulary.BYTES);
    }

    /**
     * The tokenizer with {@code specials} (six, the first being the BOS token) after the 256 bytes, with the merges
     * of {@code vocabulary}.
     */
    static String build(JsonMapper mapper, List<String> specials, TinyVocabulary vocabulary) {
        if (specials.size() != SPECIALS.size()) {
            throw new IllegalArgumentException("a tiny tokenizer has " + SPECIALS.size() + " special tokens");
        }
        String bosToken = specials.get(0);
        ObjectNode root = mapper.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (String s : specials) {
            ObjectNode t = added.addObject();
            t.put("id", idOf(specials, s));
            t.put("content", s);
            t.put("single_word", false);
            t.put("lstrip", false);
            t.put("rstrip", false);
            t.put("normalized", false);
            t.put("special", true);
        }
        root.putNull("normalizer");
        ObjectNode pre = root.putObject("pre_tokenizer");
        pre.put("type", "ByteLevel");
        pre.put("add_prefix_space", false);
        pre.put("trim_offsets", true);
        pre.put("use_regex", true);
        ObjectNode post = root.putObject("post_processor");
        post.put("type", "TemplateProcessing");
        ArrayNode single = post.putArray("single");
        single.addObject().putObject("SpecialToken").put("id", bosToken).put("type_id", 0);
        single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        ArrayNode pair = post.putArray("pair");
        pair.addObject().putObject("SpecialToken").put("id", bosToken).put("type_id", 0);
        pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        pair.addObject().putObject("SpecialToken").put("id", bosToken).put("type_id", 1);
        pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
        ObjectNode bos = post.putObject("special_tokens").putObject(bosToken);
        bos.put("id", bosToken);
        bos.putArray("ids").add(idOf(specials, bosToken));
        bos.putArray("tokens").add(bosToken);
        ObjectNode decoder = root.putObject("decoder");
        decoder.put("type", "ByteLevel");
        decoder.put("add_prefix_space", true);
        decoder.put("trim_offsets", true);
        decoder.put("use_regex", true);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", false);
        boolean bpe = vocabulary == TinyVocabulary.BPE;
        String[] tokens = new String[256];
        for (int b = 0; b < 256; b++) {
            tokens[b] = String.valueOf(byteSymbol(b));
        }
        if (bpe) {
            for (int i = 0; i < BPE_MERGES.size(); i++) {
                tokens[FREE_BYTES[i]] = BPE_MERGES.get(i)[0] + BPE_MERGES.get(i)[1];
            }
        }
        ObjectNode vocab = model.putObject("vocab");
        for (int id = 0; id < 256; id++) {
            vocab.put(tokens[id], id);
        }
        for (String s : specials) {
            vocab.put(s, idOf(specials, s));
        }
        ArrayNode merges = model.putArray("merges");
        if (bpe) {
            BPE_MERGES.forEach(m -> merges.add(m[0] + " " + m[1]));
        }
        return mapper.writerWithDefaultPrettyPrinter().writeValueAsString(root);
    }
}
