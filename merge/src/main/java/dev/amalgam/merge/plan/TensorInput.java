package dev.amalgam.merge.plan;

/**
 * Where one input of an output tensor comes from.
 *
 * @param model          model reference
 * @param tensorName     tensor name in that model
 * @param rows           rows to read for embeddings (a prefix, or the output rows when mapped); -1 = whole tensor
 * @param rowMap         for embeddings with a different vocabulary: source row per output row, -1 = take the
 *                       fallback's row; null when rows line up
 * @param fallbackModel  model whose row fills unmapped rows (the tokenizer source), or null
 * @param fallbackTensor tensor of the fallback model, or null
 */
public record TensorInput(String model, String tensorName, long rows, int[] rowMap, String fallbackModel,
                          String fallbackTensor) {

    /** A whole-tensor input. */
    public static TensorInput whole(String model, String tensorName) {
        return new TensorInput(model, tensorName, -1, null, null, null);
    }
}
