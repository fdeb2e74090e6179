package dev.amalgam.fusion.data;

import java.util.Locale;

/**
 * How prompts and responses become tokens (see {@link ChatTokenizer}).
 *
 * <ul>
 *   <li>{@link #REFERENCE}: as the WRPO authors' code (alignment-handbook's chat-template step, then TRL's
 *       tokenize_row): the prompt rendered without the generation prompt (an empty system turn first when the
 *       template mentions {@code system} or {@code <|im_start|>}); a response is the template's rendering of the
 *       assistant message alone (BOS text stripped), tokenised after the prompt text, plus the EOS token.</li>
 *   <li>{@link #AMALGAM}: the prompt rendered with the generation prompt; a response is the rest of the rendered
 *       conversation (so no header is repeated and no EOS is added beyond what the template writes).</li>
 *   <li>{@link #AUTO}: {@code reference} when the target's template can render the reference's pieces (a lone
 *       assistant message, the prompt with its system turn) and the tokenizer has an EOS token; else
 *       {@code amalgam}. The job reports which one it used.</li>
 * </ul>
 */
public enum Tokenization {
    AUTO("auto"),
    REFERENCE("reference"),
    AMALGAM("amalgam");

    private final String id;

    Tokenization(String id) {
        this.id = id;
    }

    /** The spec's spelling. */
    public String id() {
        return id;
    }

    public static Tokenization fromId(String id) {
        for (Tokenization t : values()) {
            if (t.id.equals(id.toLowerCase(Locale.ROOT))) {
                return t;
            }
        }
        throw new IllegalArgumentException("must be auto, reference or amalgam, got " + id);
    }
}
