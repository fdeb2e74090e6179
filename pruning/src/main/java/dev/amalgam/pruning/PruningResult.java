package dev.amalgam.pruning;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a pruning run produced.
 *
 * @param method the method
 * @param steps every step in order (the nested removal sets are their prefixes)
 * @param removedBlocks the final removed set, in forward order
 * @param calibrationPerplexityBefore dense model on the calibration set
 * @param calibrationPerplexityAfter pruned model on the calibration set
 * @param evalPerplexityBefore dense model on the evaluation dataset, or null without one
 * @param evalPerplexityAfter pruned model (engine's masked forward) on the evaluation dataset, or null
 * @param denseParameters parameters of the dense model (config arithmetic)
 * @param prunedParameters parameters left after removing the blocks
 * @param parameterRatio {@code 1 - prunedParameters / denseParameters}
 * @param modelDir the pruned Hugging Face model directory
 * @param reportFile report.json
 * @param blockForwards residual-block forwards run by this invocation (search and per-step perplexities)
 * @param searchSeconds wall time of the search in this invocation
 * @param searchCpuSeconds CPU time of the searching thread (all of the search's CPU work when PyTorch runs one
 *     intra-op thread, a lower bound otherwise; not counting GPU time)
 * @param finalState the checkpoint after the last step
 */
public record PruningResult(PruneMethod method, List<PruneStep> steps, List<Block> removedBlocks,
        double calibrationPerplexityBefore, double calibrationPerplexityAfter, Double evalPerplexityBefore,
        Double evalPerplexityAfter, long denseParameters, long prunedParameters, double parameterRatio, Path modelDir,
        Path reportFile, long blockForwards, double searchSeconds, double searchCpuSeconds, PruningState finalState) {

    public PruningResult {
        steps = List.copyOf(steps);
        removedBlocks = List.copyOf(removedBlocks);
    }

    /** The nested removal sets: step number -> blocks removed after that step, in forward order. */
    public Map<Integer, List<Block>> nestedRemovalSets() {
        Map<Integer, List<Block>> out = new LinkedHashMap<>();
        List<Block> acc = new ArrayList<>();
        for (PruneStep s : steps) {
            acc.addAll(s.blocks());
            List<Block> sorted = new ArrayList<>(acc);
            sorted.sort(Block.FORWARD_ORDER);
            out.put(s.step(), List.copyOf(sorted));
        }
        return out;
    }
}
