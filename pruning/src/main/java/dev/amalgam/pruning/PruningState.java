package dev.amalgam.pruning;

import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The job checkpoint of a pruning run: the removal order so far and what a resume needs. Serialisable with
 * Jackson as is ({@link #toJson()} / {@link #fromJson(JsonNode)}); the service stores it after every step and
 * passes it back to {@link PruningRunner#run} when a new worker takes the job over.
 *
 * @param version format version (1)
 * @param method spec name of the method that produced it
 * @param fingerprint hash of the inputs that decide the result (method, candidates, calibration tokens and
 *     batching, model config); a resume with other inputs is refused
 * @param scores per-candidate scores of one-shot methods (null for greedy searches), in candidate order
 * @param steps completed steps, in order
 */
public record PruningState(int version, String method, String fingerprint, List<Double> scores, List<PruneStep> steps) {

    public static final int VERSION = 1;
    private static final JsonMapper MAPPER = JsonMapper.builder().build();

    public PruningState {
        scores = scores == null ? null : List.copyOf(scores);
        steps = List.copyOf(steps);
    }

    /** Every block removed by the completed steps, in removal order. */
    public List<Block> removedBlocks() {
        List<Block> out = new ArrayList<>();
        steps.forEach(s -> out.addAll(s.blocks()));
        return out;
    }

    /** This state with one more step. */
    PruningState plus(PruneStep step) {
        List<PruneStep> more = new ArrayList<>(steps);
        more.add(step);
        return new PruningState(version, method, fingerprint, scores, more);
    }

    public JsonNode toJson() {
        return MAPPER.valueToTree(this);
    }

    public static PruningState fromJson(JsonNode json) {
        return MAPPER.treeToValue(json, PruningState.class);
    }
}
