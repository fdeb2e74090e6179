package dev.amalgam.merge.config;

/**
 * One entry of mergekit's {@code tokenizer.tokens}: where the embedding (and head) row of a token comes from.
 *
 * <pre>{@code
 * tokenizer:
 *   source: union
 *   tokens:
 *     <|im_start|>: {source: chatml_model, force: true}               # that model's row for the token
 *     <|im_end|>:   {source: {kind: model_token, model: base, token: "</s>"}}  # a model's row for another token
 *     <pad>:        {source: {kind: zero}}                             # a zero row
 * }</pre>
 *
 * <p>As in mergekit's {@code PermutedEmbeddings}: without {@code force} the source is used only by the models that
 * lack the token (instead of the default rule: its only holder, else the base model, else the mean); with
 * {@code force} every model's row for the token is the source's, so the merged row is that row. A token not in
 * the output vocabulary is added to the tokenizer.
 *
 * @param kind    what the source is
 * @param model   the model reference for {@link Kind#MODEL} and {@link Kind#MODEL_TOKEN}, else null
 * @param tokenId {@link Kind#MODEL_TOKEN}: the row (token id in that model) to take, or null when {@code token} is given
 * @param token   {@link Kind#MODEL_TOKEN}: the token of that model whose row to take, or null when {@code tokenId} is given
 * @param force   whether every model takes the source's row, also those that have the token
 */
public record TokenEmbedding(Kind kind, String model, Integer tokenId, String token, boolean force) {

    /** The kinds of source mergekit's {@code TokenEmbeddingConfig} takes. */
    public enum Kind {
        /** A model reference: that model's row for the token itself. */
        MODEL,
        /** {@code {kind: model_token, model, token_id | token}}: a model's row for a given id or token. */
        MODEL_TOKEN,
        /** {@code {kind: zero}}: a row of zeros. */
        ZERO
    }
}
