package dev.amalgam.cli;

import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelio.Json;
import dev.amalgam.pruning.InvalidPruneSpecException;
import dev.amalgam.pruning.PruneSpec;
import dev.amalgam.pruning.PruningListener;
import dev.amalgam.pruning.PruningProgress;
import dev.amalgam.pruning.PruningResult;
import dev.amalgam.pruning.PruningRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code amalgam prune}: BlockPruner or a baseline on local files, with the same spec (built from the
 * options) and library as the pruning service.
 */
@Command(name = "prune", mixinStandardHelpOptions = true,
        description = "Remove attention/MLP blocks (BlockPruner) or layers (baselines) from a model; writes OUT/model and OUT/report.json.")
class PruneCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "Hugging Face model directory")
    Path model;

    @Option(names = "--data", required = true, description = "calibration JSONL (\"text\" or \"input_ids\" per line)")
    Path data;

    @Option(names = "--eval-data", description = "optional JSONL for perplexity before and after")
    Path evalData;

    @Option(names = "--out", required = true, description = "output directory (model/ and report.json)")
    Path out;

    @Option(names = "--method", defaultValue = "blockpruner",
            description = "blockpruner, layer_greedy, shortgpt, relative_magnitude or oneshot_block (default: ${DEFAULT-VALUE})")
    String method;

    @Option(names = "--blocks", description = "blocks (or layers, for layer methods) to remove")
    Integer blocks;

    @Option(names = "--target-ratio", description = "stop at this pruning ratio instead of a block count, e.g. 0.2")
    Double targetRatio;

    @Option(names = "--candidates", defaultValue = "mix", description = "mix, attention or mlp (default: ${DEFAULT-VALUE})")
    String candidates;

    @Option(names = "--samples", description = "calibration rows (default: " + PruneSpec.DEFAULT_SAMPLES + ")")
    Integer samples;

    @Option(names = "--seq-len", description = "calibration chunk length (default: " + PruneSpec.DEFAULT_SEQ_LEN + ")")
    Integer seqLen;

    @Option(names = "--seed", description = "calibration sampling seed (default: " + PruneSpec.DEFAULT_SEED + ")")
    Long seed;

    @Option(names = "--batch-size", description = "chunks per forward (default: " + PruneSpec.DEFAULT_BATCH_SIZE + ")")
    Integer batchSize;

    @Option(names = "--output-form", defaultValue = "masked",
            description = "masked (loads anywhere) or compact (drop_attn_list/drop_mlp_list) (default: ${DEFAULT-VALUE})")
    String outputForm;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu, or gpu[:N] (default: ${DEFAULT-VALUE})")
    String device;

    @Override
    public Integer call() {
        ObjectNode json = Json.object();
        json.put("method", method);
        json.put("candidates", candidates);
        json.put("output", outputForm);
        if (blocks != null) {
            json.put("blocks", blocks);
        }
        if (targetRatio != null) {
            json.put("targetRatio", targetRatio);
        }
        if (samples != null) {
            json.put("samples", samples);
        }
        if (seqLen != null) {
            json.put("seqLen", seqLen);
        }
        if (seed != null) {
            json.put("seed", seed);
        }
        if (batchSize != null) {
            json.put("batchSize", batchSize);
        }
        if (Files.exists(out)) {
            throw new IllegalArgumentException("--out " + out + " already exists");
        }
        try {
            PruneSpec spec = PruneSpec.parse(json);
            ProgressBar bar = new ProgressBar(System.err, "pruning");
            PruningResult r = PruningRunner.run(spec, model, data, evalData, out, null, new PruningListener() {
                @Override
                public void onStep(PruningProgress p) {
                    bar.update(p.step(), p.totalSteps(), p.removed() + " ppl " + String.format("%.3f", p.perplexity()));
                }
            }, EngineOptions.parse(device));
            Map<String, Object> summary = new LinkedHashMap<>();
            summary.put("method", r.method().specName());
            summary.put("removedBlocks", r.removedBlocks().stream().map(Object::toString).toList());
            summary.put("parameterRatio", r.parameterRatio());
            summary.put("calibrationPerplexityBefore", r.calibrationPerplexityBefore());
            summary.put("calibrationPerplexityAfter", r.calibrationPerplexityAfter());
            summary.put("evalPerplexityBefore", r.evalPerplexityBefore());
            summary.put("evalPerplexityAfter", r.evalPerplexityAfter());
            summary.put("model", r.modelDir().toString());
            summary.put("report", r.reportFile().toString());
            System.out.println(Json.toPrettyString(Json.MAPPER.valueToTree(summary)));
            return 0;
        } catch (InvalidPruneSpecException e) {
            System.err.println("amalgam prune: the spec has " + e.problems().size() + " problem(s):");
            e.problems().forEach(p -> System.err.println("  - " + p));
            return 2;
        }
    }
}
