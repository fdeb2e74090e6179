package dev.amalgam.fusion;

import dev.amalgam.job.CancelledException;

import dev.amalgam.job.Progress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.amalgam.fusion.data.PreferenceJsonl;
import dev.amalgam.fusion.data.PreferenceRecord;
import dev.amalgam.fusion.testing.GcPressure;
import dev.amalgam.fusion.testing.TinyData;
import dev.amalgam.modelio.Json;
import dev.amalgam.modelio.SafetensorsFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.node.ObjectNode;

/**
 * A job stopped after any step and run again on its work directory ends with the bytes of an uninterrupted run's
 * model, with the settings of this module's test JVM (MKL_CBWR=COMPATIBLE, one intra-op thread) and the garbage
 * collector running throughout, as in a worker busy with other jobs. A stop between checkpoints discards the steps
 * after the last one (a crash in the middle of a step's accumulation window included: nothing of a window is saved)
 * and the resumed run redoes them.
 */
class ResumeTest {

    @TempDir
    static Path shared;
    static Path llama;
    static Path qwen;
    static Path preference;
    static Path eval;
    static Path sftThenPreference;

    @BeforeAll
    static void data() {
        llama = TinyData.llama(shared.resolve("llama"), 21);
        qwen = TinyData.qwen2(shared.resolve("qwen"), 43);
        preference = shared.resolve("train.jsonl");
        eval = shared.resolve("eval.jsonl");
        PreferenceJsonl.write(preference, TinyData.patterned(16, 100));
        PreferenceJsonl.write(eval, TinyData.patterned(8, 200));
        List<PreferenceRecord> records = new ArrayList<>();
        TinyData.patterned(6, 5).forEach(r -> records.add(PreferenceRecord.sft(r.prompt().get(0).content(),
                r.sourceChosen())));
        records.addAll(TinyData.patterned(8, 6));
        sftThenPreference = shared.resolve("sft-and-preference.jsonl");
        PreferenceJsonl.write(sftThenPreference, records);
    }

    @Test
    void fullFineTuneResumesAtCheckpointsBetweenThemAndAcrossEpochs(@TempDir Path work) throws Exception {
        // 16 records, 2 per micro-batch, 3 micro-batches per step, every batch stepping: 3 steps per epoch (the third
        // has 2), 2 epochs.
        FusionSpec spec = FusionRunnerTest.spec(", \"epochs\": 2, \"batchSize\": 2, \"gradAccum\": 3,"
                + " \"checkpointEvery\": 2, \"evalEvery\": 2, \"weightDecay\": 0.01, \"maxGradNorm\": 0.5,"
                + " \"stepAccounting\": \"all-batches\"");
        try (GcPressure gc = GcPressure.start()) {
            byte[] whole = run(spec, llama, preference, eval, work.resolve("whole"), Stop.never());
            // after step 1: no checkpoint yet, the run starts over with the cached reference log-probs
            assertThat(resumed(spec, llama, preference, eval, work.resolve("s1"), Stop.cancelAfter(1), null))
                    .isEqualTo(whole);
            assertThat(resumed(spec, llama, preference, eval, work.resolve("s3"), Stop.cancelAfter(3),
                    "wrpo-step-2")).as("step 3 redone from the checkpoint of step 2").isEqualTo(whole);
            assertThat(resumed(spec, llama, preference, eval, work.resolve("s4"), Stop.cancelAfter(4),
                    "wrpo-step-4")).as("in the second epoch").isEqualTo(whole);
            assertThat(resumed(spec, llama, preference, eval, work.resolve("s5"), Stop.cancelAfter(5),
                    "wrpo-step-4")).isEqualTo(whole);
            // a crash after step 4's update, before its checkpoint is written
            assertThat(resumed(spec, llama, preference, eval, work.resolve("c4"), Stop.crashAt(4), "wrpo-step-2"))
                    .isEqualTo(whole);
            assertThat(Files.readString(work.resolve("s3/w/reference-logps-train.json")))
                    .isEqualTo(Files.readString(work.resolve("whole/w/reference-logps-train.json")));
            // reference accounting: 8 micro-batches an epoch, steps end at stream positions 3, 6, 9, 12 (max_steps
            // 2 * (8 // 3) = 4), so step 3 takes epoch 1's last two micro-batches and epoch 2's first; redone from
            // the checkpoint of step 2 it ends the same
            FusionSpec ref = FusionRunnerTest.spec(", \"epochs\": 2, \"batchSize\": 2, \"gradAccum\": 3,"
                    + " \"checkpointEvery\": 2, \"weightDecay\": 0.01, \"maxGradNorm\": 0.5");
            byte[] wholeRef = run(ref, llama, preference, null, work.resolve("rwhole"), Stop.never());
            assertThat(resumed(ref, llama, preference, null, work.resolve("r3"), Stop.cancelAfter(3), "wrpo-step-2"))
                    .as("a window across the epoch boundary, redone").isEqualTo(wholeRef);
            assertThat(Json.read(work.resolve("rwhole/out/fusion_report.json")).path("steps").path("wrpo").asLong())
                    .isEqualTo(4);
            assertThat(Json.read(work.resolve("rwhole/out/fusion_report.json")).path("data")
                    .path("microBatchesWithoutStep").path("wrpo").asLong()).isEqualTo(4); // 16 - 12
        }
    }

    @Test
    void sftThenWrpoResumesOnBothSidesOfTheStageBoundary(@TempDir Path work) throws Exception {
        FusionSpec spec = stages(", \"checkpointEvery\": 2");
        try (GcPressure gc = GcPressure.start()) {
            byte[] whole = run(spec, llama, sftThenPreference, null, work.resolve("whole"), Stop.never());
            assertThat(resumed(spec, llama, sftThenPreference, null, work.resolve("s3"), Stop.cancelAfter(3),
                    "sft-step-2")).as("inside SFT").isEqualTo(whole);
            // SFT done and checkpointed, the reference log-probs of the SFT model cached, no WRPO step yet
            assertThat(resumed(spec, llama, sftThenPreference, null, work.resolve("s4"), Stop.cancelAfter(4),
                    "sft-step-4")).as("at the boundary").isEqualTo(whole);
            assertThat(resumed(spec, llama, sftThenPreference, null, work.resolve("s5"), Stop.cancelAfter(5),
                    "sft-step-4")).as("WRPO step 1 redone from SFT's last checkpoint").isEqualTo(whole);
            assertThat(resumed(spec, llama, sftThenPreference, null, work.resolve("s7"), Stop.cancelAfter(7),
                    "wrpo-step-2")).as("inside WRPO").isEqualTo(whole);
        }
    }

    @Test
    void loraJobResumesInBothStagesAndCheckpointsOnlyTheAdapters(@TempDir Path work) throws Exception {
        FusionSpec spec = stages(", \"checkpointEvery\": 1, \"lr\": 0.01, \"lora\": {\"rank\": 2, \"alpha\": 4,"
                + " \"targetModules\": [\"k_proj\", \"up_proj\"]}");
        try (GcPressure gc = GcPressure.start()) {
            byte[] whole = run(spec, qwen, sftThenPreference, null, work.resolve("whole"), Stop.never());
            assertThat(resumed(spec, qwen, sftThenPreference, null, work.resolve("s2"), Stop.cancelAfter(2),
                    "sft-step-2")).isEqualTo(whole);
            assertThat(resumed(spec, qwen, sftThenPreference, null, work.resolve("s6"), Stop.cancelAfter(6),
                    "wrpo-step-2")).isEqualTo(whole);
        }
        // 2 layers x (k A[2,32] + B[16,2], up A[2,32] + B[64,2]): the frozen base is not in the checkpoint
        Path last;
        try (var s = Files.list(work.resolve("s6/w/checkpoints"))) {
            last = s.max(Path::compareTo).orElseThrow();
        }
        try (SafetensorsFile f = SafetensorsFile.open(last.resolve("parameters/model.safetensors"))) {
            assertThat(f.names()).hasSize(8).allMatch(n -> n.contains(".lora_"));
        }
    }

    @Test
    void aResumeUnderOtherCpuSettingsSaysItWillNotBeBitIdentical(@TempDir Path work) throws Exception {
        FusionSpec spec = FusionRunnerTest.spec(", \"epochs\": 1, \"evalEvery\": 0, \"checkpointEvery\": 2");
        Path w = work.resolve("w");
        assertThatThrownBy(() -> FusionRunner.run(spec, llama, preference, null, w, work.resolve("out"),
                Stop.cancelAfter(2))).isInstanceOf(CancelledException.class);
        Path state = w.resolve("checkpoints/000002-wrpo-step-2/state.json");
        assertThat(Json.read(state).path("numerics").asString())
                .isEqualTo("cpu, intra-op threads 1, MKL_CBWR=COMPATIBLE"); // this module's test JVM
        List<String> messages = new ArrayList<>();
        Progress listener = new Progress() {
            @Override
            public void metrics(String stage, long step, Map<String, ? extends Number> values) {
            }

            @Override
            public void progress(double fraction, String message) {
                messages.add(message);
            }
        };
        ObjectNode edited = (ObjectNode) Json.read(state);
        edited.put("numerics", "cpu, intra-op threads 8, MKL_CBWR=unset"); // as a worker on another machine
        Json.write(state, edited);
        FusionRunner.run(spec, llama, preference, null, w, work.resolve("out"), listener);
        assertThat(messages).anyMatch(m -> m.contains("computed with cpu, intra-op threads 8, MKL_CBWR=unset")
                && m.contains("will not be bit-identical"));
        assertThat(Json.read(work.resolve("out/fusion_report.json")).path("numerics").asString())
                .isEqualTo("cpu, intra-op threads 1, MKL_CBWR=COMPATIBLE");
    }

    /** SFT (2 steps an epoch, 2 epochs) then WRPO (4 steps), full fine-tuning unless {@code extra} says LoRA. */
    private static FusionSpec stages(String extra) {
        return FusionRunnerTest.spec(", \"stages\": \"sft,wrpo\", \"sftLr\": 0.01, \"sftEpochs\": 2, \"epochs\": 1,"
                + " \"batchSize\": 2, \"maxLength\": 48, \"evalEvery\": 0" + extra);
    }

    /** Stops the first attempt, then runs a second on the same work directory; returns the model's bytes. */
    private static byte[] resumed(FusionSpec spec, Path model, Path data, Path evalData, Path dir, Stop stop,
            String resumedFromOrNull) throws Exception {
        assertThatThrownBy(() -> run(spec, model, data, evalData, dir, stop)).isInstanceOf(RuntimeException.class);
        FusionResult r = FusionRunner.run(spec, model, data, evalData, dir.resolve("w"), dir.resolve("out"),
                Progress.NONE);
        if (resumedFromOrNull == null) {
            assertThat(r.resumedFrom()).isNull();
        } else {
            assertThat(r.resumedFrom().getFileName().toString()).endsWith(resumedFromOrNull);
        }
        return Files.readAllBytes(r.modelDir().resolve("model.safetensors"));
    }

    private static byte[] run(FusionSpec spec, Path model, Path data, Path evalData, Path dir, Stop stop)
            throws Exception {
        FusionResult r = FusionRunner.run(spec, model, data, evalData, dir.resolve("w"), dir.resolve("out"), stop);
        return Files.readAllBytes(r.modelDir().resolve("model.safetensors"));
    }

    /** Counts finished steps over all stages; cancels after, or fails inside the metrics call of, step n. */
    private static final class Stop implements Progress {
        private final int cancelAfter;
        private final int crashAt;
        private int steps;

        private Stop(int cancelAfter, int crashAt) {
            this.cancelAfter = cancelAfter;
            this.crashAt = crashAt;
        }

        static Stop never() {
            return new Stop(Integer.MAX_VALUE, Integer.MAX_VALUE);
        }

        static Stop cancelAfter(int n) {
            return new Stop(n, Integer.MAX_VALUE);
        }

        /** The update of step n is applied, its checkpoint is not written (metrics come first). */
        static Stop crashAt(int n) {
            return new Stop(Integer.MAX_VALUE, n);
        }

        @Override
        public void metrics(String stage, long step, Map<String, ? extends Number> values) {
            if (++steps == crashAt) {
                throw new IllegalStateException("worker died after step " + steps);
            }
        }

        @Override
        public void progress(double fraction, String message) {
        }

        @Override
        public boolean isCancelled() {
            return steps >= cancelAfter;
        }
    }
}
