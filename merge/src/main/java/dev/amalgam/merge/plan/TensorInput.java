package dev.amalgam.merge.plan;

/**
 * Where one input of an output tensor comes from.
 *
 * @param model          model reference
 * @param tensorName     tensor name in that model
 * @param rows           rows to read for embeddings (a prefix, or the output rows when mapped); -1 = whole tensor
 * @param rowMap         for embeddings with a different vocabulary: source row per output row, -1 when the model
 *                       lacks the token; null when rows line up
 * @param defaults       rows for the tokens this model lacks (shared by the tensor's inputs), or null
 * @param padFrom        output rows from this one on are padding ({@code tokenizer.pad_to_multiple_of}): the mean of
 *                       this input's rows before it, as mergekit fills them; -1 when there is no padding
 */
public record TensorInput(String model, String tensorName, long rows, int[] rowMap, RowDefaults defaults, int padFrom) {

    /** An input without padding rows. */
    public TensorInput(String model, String tensorName, long rows, int[] rowMap, RowDefaults defaults) {
        this(model, tensorName, rows, rowMap, defaults, -1);
    }

    /** A whole-tensor input. */
    public static TensorInput whole(String model, String tensorName) {
        return new TensorInput(model, tensorName, -1, null, null);
    }
}
