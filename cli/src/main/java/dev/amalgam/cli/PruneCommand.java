package dev.amalgam.cli;

import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelio.Json;
import dev.amalgam.pruning.PruneSpec;
import dev.amalgam.pruningservice.PruningJobType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code amalgam prune}: the pruning job of the pruning service (BlockPruner or a baseline), run locally on files,
 * with the spec built from the options. Ctrl-C stops after the current search step; the same command resumes.
 */
@Command(name = "prune", mixinStandardHelpOptions = true,
        description = "Remove attention/MLP blocks (BlockPruner) or layers (baselines) from a model; writes OUT/model and OUT/report/report.json.")
class PruneCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "Hugging Face model directory")
    Path model;

    @Option(names = "--data", required = true, description = "calibration JSONL (\"text\" or \"input_ids\" per line)")
    Path data;

    @Option(names = "--eval-data", description = "optional JSONL for perplexity before and after")
    Path evalData;

    @Option(names = "--out", required = true, description = "output directory (model/ and report/report.json); must not exist")
    Path out;

    @Option(names = "--method", defaultValue = "blockpruner", completionCandidates = MethodNames.class,
            description = "one of ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE})")
    String method;

    /** The registered pruning methods' names, for the help and shell completion. */
    static final class MethodNames implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return dev.amalgam.pruning.PruneMethods.all().stream().map(dev.amalgam.pruning.PruneMethod::specName).iterator();
        }
    }

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

    @Option(names = "--work-dir", description = "the search's checkpoint; run again with the same directory to resume (default: OUT.work)")
    Path workDir;

    @Override
    public Integer call() throws Exception {
        ObjectNode json = Json.object();
        json.put("model", model.toString());
        json.put("dataset", data.toString());
        if (evalData != null) {
            json.put("evalDataset", evalData.toString());
        }
        json.put("name", LocalJobCommand.OUTPUT_NAME);
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
        Path work = workDir != null ? workDir : LocalJobCommand.workDirOf(out);
        return LocalJobCommand.run("prune", new PruningJobType(EngineOptions.parse(device)), json, out, work,
                LocalJobCommand.bar("pruning"));
    }
}
