package dev.amalgam.merge.plan;

import dev.amalgam.merge.arch.Architecture;
import dev.amalgam.merge.method.MergeMethod;
import dev.amalgam.modelio.DType;
import java.util.List;

/**
 * A validated merge, ready to execute: every output tensor with its inputs and resolved parameters, and the
 * facts the output config must state.
 *
 * @param method         the merge method
 * @param architecture   the model family
 * @param referenceModel model whose config.json the output starts from
 * @param tokenizerModel model whose tokenizer files are copied
 * @param tensors        output tensors in file order
 * @param numLayers      output layers of the first planned module that has layers (the language model of a
 *                       multi-module family)
 * @param vocabSize      output embedding rows
 * @param tiedEmbeddings whether lm_head is tied (not written)
 * @param dtype          output dtype of floating tensors
 * @param warnings       non-fatal notes
 * @param unionTokenizer the tokenizer to write for {@code tokenizer_source: union}, else null
 * @param moduleLayers   output layers of each planned module of the family, by module name (one {@code default}
 *                       module for a family of one module)
 */
public record MergePlan(MergeMethod method, Architecture architecture, String referenceModel, String tokenizerModel,
                        List<PlannedTensor> tensors, int numLayers, long vocabSize, boolean tiedEmbeddings, DType dtype,
                        List<String> warnings, UnionTokenizer unionTokenizer,
                        java.util.Map<String, Integer> moduleLayers) {
    public MergePlan {
        tensors = List.copyOf(tensors);
        moduleLayers = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(moduleLayers));
        warnings = List.copyOf(warnings);
    }
}
