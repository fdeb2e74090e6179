package dev.amalgam.modelengine.tiny;

import java.util.List;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Builds a real Hugging Face {@code tokenizer.json}: GPT-2 style byte-level BPE whose vocabulary is the 256
 * byte symbols (id = byte value, so any UTF-8 text round-trips) followed by special tokens, with no merges.
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
        return build(mapper, SPECIALS);
    }

    /** The tokenizer with {@code specials} (six, the first being the BOS token) after the 256 bytes. */
    static String build(JsonMapper mapper, List<String> specials) {
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
        ObjectNode vocab = model.putObject("vocab");
        for (int b = 0; b < 256; b++) {
            vocab.put(String.valueOf(byteSymbol(b)), b);
        }
        for (String s : specials) {
            vocab.put(s, idOf(specials, s));
        }
        model.putArray("merges");
        return mapper.writerWithDefaultPrettyPrinter().writeValueAsString(root);
    }
}
