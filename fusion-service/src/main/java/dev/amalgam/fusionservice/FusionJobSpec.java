package dev.amalgam.fusionservice;

import com.fasterxml.jackson.annotation.JsonUnwrapped;
import dev.amalgam.fusion.FusionSpec;
import dev.amalgam.fusion.fusechat.train.FuseChatSpec;
import dev.amalgam.fusion.build.BuildSettings;
import io.swagger.v3.oas.annotations.media.Schema;

/**
 * The fusion job spec (version 1): the fusion library's training spec (stages, loss, epochs, lr, beta, alphaEnd,
 * batchSize, lora, ...) plus the job's inputs and output.
 *
 * <p>Instead of {@code data} (preference records), a job can start from {@code candidates}: prompts with scored
 * (or, with {@code rewardModel}, unscored) source responses; it then builds the preference data as the reference
 * does (a third of the prompts for SFT, on-policy samples of the SFT model ranked by the reward model), with the
 * optional {@code build} settings ({@code pairRule: "fusechat3"} for FuseChat-3.0's same-source pairs instead of
 * WRPO's, with {@code minMargin}/{@code maxMargin}), and also publishes the built records as the DATASET
 * "{name}-preferences". The
 * training report is published as the REPORT artifact "{name}-report"; every published name must follow the
 * artifact name rules. The target's {@code max_position_embeddings} bounds {@code maxLength}; sampled
 * responses stop at it ({@code build.maxNewTokens}, 4096 by default, is an upper bound). {@code tokenization} and
 * {@code stepAccounting} choose between the WRPO authors' tokenisation and step accounting (the defaults) and the
 * platform's earlier ones.
 *
 * <p>With {@code method: "fusechat"} the job is FuseChat stage 1 instead (pairwise knowledge fusion): the target is
 * the pivot, {@code source} the source MODEL (its tokenizer is read), {@code pivotRepresentations} and
 * {@code sourceRepresentations} the two models' representation DATASETs of one corpus; the training fields are
 * then FuseChat's ({@link FuseChatSpec}: epochs, lr, batchSize, gradAccum, maxLength, lambda, lambdaSchedule,
 * fusionFunction, metricLevel, distillLoss, temperature, includePivot, vocabMapping, ...), with the FuseChat
 * authors' recipe as defaults, and WRPO's fields ({@code data}, {@code stages}, {@code beta}, ...) are refused.
 *
 * @param target      the MODEL to train (id or name)
 * @param data        preference records (give this or {@code candidates}): a DATASET that is one JSONL, Parquet or Arrow
 *                    file, or a directory with split files as a hub snapshot or {@code save_to_disk} lays them out
 * @param split       with {@code data} as a directory: the split to train on (default {@code train}, else
 *                    {@code train_prefs}); its {@code test} split, when it has one and it is not this one, is the
 *                    held-out data unless {@code evalData} is given
 * @param candidates  prompts with source responses, one JSONL file
 * @param rewardModel with {@code candidates}: the MODEL that scores unscored responses
 * @param build       with {@code candidates}: how the preference data is built; the reference's settings by default
 * @param evalData    held-out preference records for eval_ metrics (a file, or a directory's test split)
 * @param name        the trained MODEL artifact to publish
 * @param training    the fusion library's training spec, whose fields sit at the top level of the JSON (WRPO;
 *                    null with fusechat)
 * @param method      {@code wrpo} (default) or {@code fusechat}
 * @param source      with fusechat: the source MODEL
 * @param pivotRepresentations  with fusechat: the target's (pivot's) representation DATASET
 * @param sourceRepresentations with fusechat: the source's representation DATASET of the same corpus
 * @param fusechat    with fusechat: its training spec, whose fields sit at the top level of the JSON
 */
@Schema(description = "A fusion job: target SFT then WRPO (or DPO/IPO/SimPO) on preference data; with method "
        + "fusechat, FuseChat stage 1 (the target, the pivot, trained towards one source's aligned distributions)",
        example = """
                {"target": "tiny", "data": "prefs", "name": "tiny-wrpo", "stages": ["sft", "wrpo"], "loss": "wrpo",
                 "epochs": 1, "batchSize": 2, "gradAccum": 1, "maxLength": 64}""")
public record FusionJobSpec(
        @Schema(description = "MODEL artifact to train", requiredMode = Schema.RequiredMode.REQUIRED) String target,
        @Schema(description = "preference records: DATASET (a JSONL, Parquet or Arrow IPC stream file, or a directory of split files)") String data,
        @Schema(description = "with data as a directory: the split to train on (default train)") String split,
        @Schema(description = "prompts with source responses: DATASET (one JSONL file)") String candidates,
        @Schema(description = "with candidates: the reward MODEL") String rewardModel,
        @Schema(description = "with candidates: data construction settings") BuildSettings build,
        @Schema(description = "held-out preference records: DATASET") String evalData,
        @Schema(description = "name of the trained MODEL artifact", requiredMode = Schema.RequiredMode.REQUIRED) String name,
        @JsonUnwrapped FusionSpec training,
        @Schema(description = "wrpo (default) or fusechat (FuseChat stage 1: pairwise knowledge fusion of source into "
                + "the target, the pivot, from representation datasets)", allowableValues = {"wrpo", "fusechat"})
        String method,
        @Schema(description = "with method fusechat: the source MODEL") String source,
        @Schema(description = "with method fusechat: the target's representation DATASET") String pivotRepresentations,
        @Schema(description = "with method fusechat: the source's representation DATASET of the same corpus")
        String sourceRepresentations,
        @JsonUnwrapped FuseChatSpec fusechat) {

    static final String WRPO = "wrpo";
    static final String FUSECHAT = "fusechat";

    boolean isFuseChat() {
        return FUSECHAT.equals(method);
    }

    static String reportName(String modelName) {
        return modelName + "-report";
    }

    static String preferencesName(String modelName) {
        return modelName + "-preferences";
    }
}
