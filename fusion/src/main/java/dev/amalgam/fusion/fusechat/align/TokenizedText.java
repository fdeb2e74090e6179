package dev.amalgam.fusion.fusechat.align;

import java.util.List;

/**
 * One model's tokenisation of a sample: the token ids and, per token, the string the alignment compares.
 * FuseChat-2.0 compares each token decoded on its own ({@code tokenizer.decode([id])}: SentencePiece drops the
 * marker of a lone word-initial token, byte-level BPE turns U+0120 into a space); FuseLLM and FuseChat 1.0
 * compare the raw token strings ({@code convert_ids_to_tokens}). The caller chooses by what it passes.
 *
 * @param ids token ids
 * @param pieces the compared string of each token, same length
 */
public record TokenizedText(int[] ids, List<String> pieces) {

    public TokenizedText {
        if (ids.length != pieces.size()) {
            throw new IllegalArgumentException("tokenized text has " + ids.length + " ids but " + pieces.size()
                    + " pieces");
        }
        if (ids.length == 0) {
            throw new IllegalArgumentException("tokenized text must not be empty");
        }
        ids = ids.clone();
        pieces = List.copyOf(pieces);
    }

    @Override
    public int[] ids() {
        return ids.clone();
    }

    public int id(int position) {
        return ids[position];
    }

    public int length() {
        return ids.length;
    }

    /** The raw token strings of the ids ({@code convert_ids_to_tokens}), for the FuseLLM / v1 comparison. */
    public static TokenizedText raw(int[] ids, Vocabulary vocabulary) {
        String[] pieces = new String[ids.length];
        for (int i = 0; i < ids.length; i++) {
            pieces[i] = vocabulary.token(ids[i]);
        }
        return new TokenizedText(ids, List.of(pieces));
    }
}
