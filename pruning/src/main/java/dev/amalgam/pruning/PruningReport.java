package dev.amalgam.pruning;

import dev.amalgam.modelio.Json;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * report.json of a run. {@code removalOrder} has the reference code's shape ({@code del_order_list.json}):
 * {@code {"1": [["mha", 3]], "2": [["mha", 3], ["mlp", 5]], ...}}, step number to the removed set sorted by layer.
 */
final class PruningReport {

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private PruningReport() {
    }

    /** {@code [["mha", 3], ["mlp", 5]]} in forward order. */
    static ArrayNode referenceList(Collection<Block> blocks) {
        List<Block> sorted = new ArrayList<>(blocks);
        sorted.sort(Block.FORWARD_ORDER);
        ArrayNode out = NODES.arrayNode();
        for (Block b : sorted) {
            out.addArray().add(b.type().referenceName()).add(b.layer());
        }
        return out;
    }

    static void write(Path file, PruneSpec spec, PruningResult r, SearchInfo search, int[] layerMap, int chunks,
            long predictedTokens, Long evalTokens, List<Double> scores, List<List<Block>> scoredCandidates) {
        ObjectNode root = NODES.objectNode();
        root.put("method", spec.method().specName());
        root.set("spec", spec.toJson());
        ObjectNode cal = root.putObject("calibration");
        cal.put("chunks", chunks);
        cal.put("seqLen", spec.seqLen());
        cal.put("predictedTokens", predictedTokens);
        cal.put("perplexityBefore", r.calibrationPerplexityBefore());
        cal.put("perplexityAfter", r.calibrationPerplexityAfter());
        if (r.evalPerplexityBefore() != null) {
            ObjectNode ev = root.putObject("evaluation");
            ev.put("predictedTokens", evalTokens);
            ev.put("perplexityBefore", r.evalPerplexityBefore());
            ev.put("perplexityAfter", r.evalPerplexityAfter());
        } else {
            root.putNull("evaluation");
        }
        ObjectNode params = root.putObject("parameters");
        params.put("dense", r.denseParameters());
        params.put("pruned", r.prunedParameters());
        params.put("ratio", r.parameterRatio());
        ArrayNode steps = root.putArray("steps");
        for (PruneStep s : r.steps()) {
            ObjectNode n = steps.addObject();
            n.put("step", s.step());
            n.set("removed", referenceList(s.blocks()));
            n.put("perplexity", s.perplexity());
            n.put("parameterRatio", s.parameterRatio());
        }
        ObjectNode order = root.putObject("removalOrder");
        for (Map.Entry<Integer, List<Block>> e : r.nestedRemovalSets().entrySet()) {
            order.set(String.valueOf(e.getKey()), referenceList(e.getValue()));
        }
        root.set("removedBlocks", referenceList(r.removedBlocks()));
        if (scores != null) {
            ArrayNode sc = root.putArray("scores");
            for (int i = 0; i < scores.size(); i++) {
                ObjectNode n = sc.addObject();
                n.set("candidate", referenceList(scoredCandidates.get(i)));
                n.put("score", scores.get(i));
            }
        }
        ObjectNode out = root.putObject("output");
        out.put("dir", r.modelDir().getFileName().toString());
        out.put("form", spec.output().specName());
        int kept = 0;
        ArrayNode map = NODES.arrayNode();
        for (int m : layerMap) {
            map.add(m);
            kept += m >= 0 ? 1 : 0;
        }
        out.put("numHiddenLayers", kept);
        out.set("layerMap", map);
        ObjectNode s = root.putObject("search");
        s.put("cached", search.stride() > 0);
        s.put("cacheStride", search.stride());
        s.put("blockForwards", r.blockForwards());
        s.put("seconds", r.searchSeconds());
        s.put("cpuSeconds", r.searchCpuSeconds());
        s.put("resumedAtStep", search.resumedSteps() + 1);
        s.put("device", search.device());
        Json.write(file, root);
    }

    /** How the search ran. */
    record SearchInfo(int stride, int resumedSteps, String device) {
    }
}
