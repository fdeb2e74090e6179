package dev.amalgam.pruning;

import java.util.List;

/**
 * A pruning method of a {@link PruneSpec}: its spec name, its paper, the spec fields it reads, and its search.
 * The methods live in this package and are registered in {@link PruneMethods}, which looks them up by spec name:
 * BlockPruner and the baselines of its paper.
 *
 * <p>Every method records its removals one unit (a block, or a layer's two blocks) at a time on the
 * {@link SearchRun}, with the calibration perplexity of each nested set, so that the report, the checkpoint and
 * resuming are the same for all of them. Instances are stateless; one instance per method.
 */
public abstract class PruneMethod {

    PruneMethod() {
    }

    /** The name used in job specs and the CLI ({@code method}). */
    public abstract String specName();

    /** The paper the method comes from. */
    public abstract Paper paper();

    /** The spec fields the method reads, with what they mean for it. */
    public abstract List<PruneParameter> parameters();

    /** Whether the method removes whole layers (both blocks at once) rather than single blocks. */
    public abstract boolean layerLevel();

    /**
     * The units the method may remove, in the reference order: whole layers for a layer-level method, else the
     * single blocks {@code allowed} admits (every attention block by layer, then every MLP block by layer).
     */
    final List<List<Block>> candidates(int layers, Candidates allowed) {
        return layerLevel() ? GreedySearch.layerCandidates(layers) : GreedySearch.blockCandidates(layers, allowed);
    }

    /**
     * Runs the method's search: continues after the run's completed (resumed) steps and records steps until the
     * stop rule holds or no candidate is left.
     */
    abstract void prune(PruneSearch search);

    /** The spec name. */
    @Override
    public String toString() {
        return specName();
    }
}
