package dev.amalgam.merge;

import java.nio.file.Path;
import java.util.List;

/**
 * What a finished merge produced.
 *
 * @param outDir         the published model directory
 * @param method         merge method name
 * @param tensors        tensors written
 * @param parameterCount elements over all written tensors
 * @param outputBytes    bytes of tensor data written
 * @param numLayers      decoder layers of the output
 * @param vocabSize      vocabulary rows of the output embeddings
 * @param dtype          output dtype name (torch spelling)
 * @param tiedEmbeddings whether the output ties lm_head to the input embeddings (lm_head not written)
 * @param inputModels    the model references merged (lineage)
 * @param files          the files of the output directory, relative names
 * @param warnings       non-fatal notes (vocabulary truncation, ...)
 * @param millis         wall time of the merge
 */
public record MergeResult(Path outDir, String method, int tensors, long parameterCount, long outputBytes,
                          int numLayers, long vocabSize, String dtype, boolean tiedEmbeddings,
                          List<String> inputModels, List<String> files, List<String> warnings, long millis) {
    public MergeResult {
        inputModels = List.copyOf(inputModels);
        files = List.copyOf(files);
        warnings = List.copyOf(warnings);
    }
}
