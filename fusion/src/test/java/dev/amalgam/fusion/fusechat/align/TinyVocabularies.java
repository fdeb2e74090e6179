package dev.amalgam.fusion.fusechat.align;

import java.util.List;

/**
 * Two tiny tokenizers that split "a cat runs" differently, made for the tests: a SentencePiece-style pivot
 * (marker U+2581) and a byte-level-BPE-style source (marker U+0120).
 */
final class TinyVocabularies {

    static final String SP = Vocabulary.SENTENCEPIECE_MARKER;
    static final String BPE = Vocabulary.BYTE_LEVEL_MARKER;

    /** 0 <unk>, 1 <s>, 2 </s>, 3 ▁a, 4 ▁c, 5 at, 6 ▁runs, 7 ▁cat, 8 s, 9 ▁run. */
    static Vocabulary pivot() {
        return new Vocabulary(List.of("<unk>", "<s>", "</s>", SP + "a", SP + "c", "at", SP + "runs", SP + "cat", "s",
                SP + "run"), SP, 1, 2, 0);
    }

    /** 0 <|endoftext|> (eos), 1 a, 2 Ġcat, 3 Ġrun, 4 s, 5 Ġdog, 6 Ġcats, 7 !. No bos, no unk. */
    static Vocabulary source() {
        return new Vocabulary(List.of("<|endoftext|>", "a", BPE + "cat", BPE + "run", "s", BPE + "dog", BPE + "cats",
                "!"), BPE, Vocabulary.NONE, 0, Vocabulary.NONE);
    }

    /**
     * "a cat runs" by the pivot: ▁a ▁c at ▁runs; pieces as FuseChat-2.0 compares them (each id decoded alone:
     * SentencePiece drops the marker of a lone word-initial piece).
     */
    static TokenizedText pivotText() {
        return new TokenizedText(new int[] {3, 4, 5, 6}, List.of("a", "c", "at", "runs"));
    }

    /** "a cat runs" by the source: a Ġcat Ġrun s; decoded alone, U+0120 becomes a space. */
    static TokenizedText sourceText() {
        return new TokenizedText(new int[] {1, 2, 3, 4}, List.of("a", " cat", " run", "s"));
    }

    private TinyVocabularies() {
    }
}
