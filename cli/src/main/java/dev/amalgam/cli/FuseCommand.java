package dev.amalgam.cli;

import dev.amalgam.fusionservice.FusionJobType;
import dev.amalgam.modelio.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code amalgam fuse}: the fusion job of the fusion service (target SFT and WRPO, or DPO/IPO/SimPO), run locally
 * on files, with the spec built from the options or read from --spec. Writes OUT/model, OUT/report (and, from
 * candidates, OUT/preferences). Ctrl-C stops at the next checkpoint; re-running with the same --work-dir resumes.
 * {@code --method fusechat} runs FuseChat stage 1 instead (--source and the two representation datasets).
 */
@Command(name = "fuse", mixinStandardHelpOptions = true,
        description = "Fuse source LLMs' strengths into a target by preference optimisation (WRPO) on preference data "
                + "(JSONL, Parquet, Arrow or a dataset directory), or by FuseChat's pairwise knowledge fusion "
                + "(--method fusechat) on representation datasets.")
class FuseCommand implements Callable<Integer> {

    @Option(names = "--target", required = true, description = "the target model directory (with a chat template)")
    Path target;

    @Option(names = "--method", description = "wrpo (default) or fusechat: FuseChat stage 1, the target (the pivot) "
            + "trained towards --source's distributions from the two models' representation datasets")
    String method;

    @Option(names = "--source", description = "with --method fusechat: the source model directory (its tokenizer is read)")
    Path source;

    @Option(names = "--pivot-representations", description = "with --method fusechat: the target's representation dataset directory")
    Path pivotRepresentations;

    @Option(names = "--source-representations", description = "with --method fusechat: the source's representation "
            + "dataset directory of the same corpus")
    Path sourceRepresentations;

    @Option(names = "--lambda", description = "with --method fusechat: weight of the language-modelling term (default 0.9)")
    Double lambda;

    @Option(names = "--data", description = "preference records: a JSONL, Parquet or Arrow IPC stream file, or a dataset directory "
            + "(a hub snapshot's data/train-*.parquet, train/*.jsonl, ...); prompt (string, message or messages), "
            + "chosen [source-best, target-best], rejected [target-worst]")
    Path data;

    @Option(names = "--split", description = "with --data a directory: the split to train on (default train, else "
            + "train_prefs); its test split is the held-out data unless --eval-data is given")
    String split;

    @Option(names = "--candidates", description = "instead of --data: prompts with source responses, from which the "
            + "preference data is built as the reference does (SFT split, on-policy samples ranked by --reward-model)")
    Path candidates;

    @Option(names = "--reward-model", description = "with --candidates: scores responses that carry no score")
    Path rewardModel;

    @Option(names = "--eval-data", description = "held-out preference records for eval_ metrics: a file, or a "
            + "directory's test split")
    Path evalData;

    @Option(names = "--out", required = true, description = "output directory (model/, report/ and, from candidates, preferences/); must not exist")
    Path out;

    @Option(names = "--work-dir", description = "checkpoints; run again with the same directory to resume (default: OUT.work)")
    Path workDir;

    @Option(names = "--spec", description = "a JSON file with the full training spec; the options below override it")
    Path specFile;

    @Option(names = "--stages", description = "sft,wrpo (default), sft or wrpo")
    String stages;

    @Option(names = "--loss", completionCandidates = LossNames.class, description = "one of ${COMPLETION-CANDIDATES} (default: wrpo)")
    String loss;

    /** The preference losses' spec names, for the help and shell completion. */
    static final class LossNames implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return java.util.Arrays.stream(dev.amalgam.fusion.loss.LossType.values()).map(dev.amalgam.fusion.loss.LossType::id).iterator();
        }
    }

    @Option(names = "--epochs", description = "preference epochs (default 1)")
    Integer epochs;

    @Option(names = "--lr", description = "preference-stage learning rate (default 3e-7)")
    Double lr;

    @Option(names = "--beta", description = "default 0.01")
    Double beta;

    @Option(names = "--alpha-end", description = "final WRPO alpha (default 0.1)")
    Double alphaEnd;

    @Option(names = "--batch-size", description = "records per micro-batch (default 2)")
    Integer batchSize;

    @Option(names = "--grad-accum", description = "micro-batches per optimizer step (default 64)")
    Integer gradAccum;

    @Option(names = "--seed", description = "default 42")
    Long seed;

    @Option(names = "--device", description = "auto (default), cpu, gpu or gpu:N")
    String device;

    @Option(names = "--tokenization", description = "auto (default: reference when the target's chat template "
            + "allows), reference (the WRPO authors' tokens) or amalgam")
    String tokenization;

    @Option(names = "--step-accounting", description = "reference (default: no step from an epoch's last partial "
            + "accumulation window, as transformers) or all-batches")
    String stepAccounting;

    @Override
    public Integer call() throws Exception {
        if (Files.exists(out)) {
            throw new IllegalArgumentException("--out " + out + " already exists");
        }
        boolean fuseChat = "fusechat".equals(method);
        if (!fuseChat && (data == null) == (candidates == null)) {
            throw new IllegalArgumentException("give exactly one of --data (preference records) or --candidates");
        }
        if (rewardModel != null && candidates == null) {
            throw new IllegalArgumentException("--reward-model is only used with --candidates");
        }
        ObjectNode json = specFile == null ? Json.object() : (ObjectNode) Json.read(specFile);
        put(json, "method", method);
        put(json, "source", source == null ? null : source.toString());
        put(json, "pivotRepresentations", pivotRepresentations == null ? null : pivotRepresentations.toString());
        put(json, "sourceRepresentations", sourceRepresentations == null ? null : sourceRepresentations.toString());
        put(json, "lambda", lambda);
        put(json, "target", target == null ? null : target.toString());
        put(json, "data", data == null ? null : data.toString());
        put(json, "split", split);
        put(json, "candidates", candidates == null ? null : candidates.toString());
        put(json, "rewardModel", rewardModel == null ? null : rewardModel.toString());
        put(json, "evalData", evalData == null ? null : evalData.toString());
        json.put("name", LocalJobCommand.OUTPUT_NAME);
        if (stages != null) {
            var list = json.putArray("stages");
            Arrays.stream(stages.split(",")).map(String::trim).forEach(list::add);
        }
        put(json, "loss", loss);
        put(json, "epochs", epochs);
        put(json, "lr", lr);
        put(json, "beta", beta);
        put(json, "alphaEnd", alphaEnd);
        put(json, "batchSize", batchSize);
        put(json, "gradAccum", gradAccum);
        put(json, "seed", seed);
        put(json, "device", device);
        put(json, "tokenization", tokenization);
        put(json, "stepAccounting", stepAccounting);
        Path work = workDir != null ? workDir : LocalJobCommand.workDirOf(out);
        // the message names the stage and step; the bar shows the fraction of the whole run
        return LocalJobCommand.run("fuse", new FusionJobType(), json, out, work, LocalJobCommand.bar("fusing"));
    }

    private static void put(ObjectNode json, String field, Object value) {
        if (value instanceof String s) {
            json.put(field, s);
        } else if (value instanceof Integer i) {
            json.put(field, i);
        } else if (value instanceof Long l) {
            json.put(field, l);
        } else if (value instanceof Double d) {
            json.put(field, d);
        }
    }
}
