package dev.amalgam.fusion.fusechat.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.amalgam.fusion.FusionResult;
import dev.amalgam.fusion.fusechat.FuseChatObjective;
import dev.amalgam.fusion.fusechat.FuseLossType;
import dev.amalgam.fusion.fusechat.FusionFunction;
import dev.amalgam.fusion.fusechat.MetricLevel;
import dev.amalgam.fusion.fusechat.SparseDistribution;
import dev.amalgam.fusion.fusechat.TargetDistributions;
import dev.amalgam.fusion.fusechat.repr.RepresentationReader;
import dev.amalgam.fusion.fusechat.repr.SampleRepresentation;
import dev.amalgam.job.CancelledException;
import dev.amalgam.job.Progress;
import dev.amalgam.modelengine.BlockMask;
import dev.amalgam.modelengine.CheckpointLoader;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.LlamaModel;
import dev.amalgam.modelio.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * FuseChat stage-1 training on a tiny pivot and a tiny source of another vocabulary: the target moves towards the
 * source's aligned distributions on text it has not seen, the targets are the fusion the spec asks for, and a run
 * interrupted at any step ends with the bytes of an uninterrupted one.
 */
class FuseChatTrainingTest {

    @TempDir
    static Path dir;
    static TinyFuseChat tiny;

    @BeforeAll
    static void setUp() {
        tiny = TinyFuseChat.write(dir.resolve("tiny"), 24, 8);
    }

    static FuseChatSpec spec(String extra) {
        return FuseChatSpec.fromJson(Json.MAPPER.readTree("{\"device\": \"cpu\", \"outputDtype\": \"fp32\","
                + " \"batchSize\": 4, \"gradAccum\": 1, \"maxLength\": 128" + extra + "}"));
    }

    @Test
    void theSourceTokenizesTheCorpusIntoOtherTokensThanThePivot() {
        List<SampleRepresentation> p;
        List<SampleRepresentation> s;
        try (RepresentationReader a = RepresentationReader.open(tiny.pivotTrain);
                RepresentationReader b = RepresentationReader.open(tiny.sourceTrain)) {
            p = a.readAll();
            s = b.readAll();
        }
        assertThat(s.get(0).length()).as("merged pieces make the source's sequence shorter")
                .isLessThan(p.get(0).length());
        FuseChatData.Built built = FuseChatData.build(tiny.pivot, tiny.pivotTrain, tiny.source, tiny.sourceTrain,
                FuseChatData.Settings.of(spec("")));
        assertThat(built.sameVocabulary()).isFalse();
        assertThat(built.examples()).hasSize(24);
        assertThat(built.oneHotPositions()).as("some positions align 1:1 or through a matched piece")
                .isLessThan(built.supervisedPositions());
    }

    @Test
    void trainingLowersTheTargetsCrossEntropyAgainstTheAlignedSourceOnHeldOutText() {
        // the source alone as the teacher, so that the fused target is the source's aligned distribution everywhere
        FuseChatSpec spec = spec(", \"epochs\": 3, \"lr\": 0.003, \"warmupRatio\": 0, \"lambda\": 0.5,"
                + " \"includePivot\": false");
        FuseChatData.Settings heldOutTargets = new FuseChatData.Settings(FusionFunction.MIN_CE, MetricLevel.SEQUENCE,
                1.0, false, "ms", 128);
        List<FuseChatExample> heldOut = FuseChatData.build(tiny.pivot, tiny.pivotHeldOut, tiny.source,
                tiny.sourceHeldOut, heldOutTargets).examples();
        double before = crossEntropy(tiny.pivot, heldOut);
        FusionResult r = FuseChatRunner.run(spec, tiny.pivot, tiny.source, tiny.pivotTrain, tiny.sourceTrain,
                dir.resolve("lower/work"), dir.resolve("lower/out"), Progress.NONE);
        assertThat(r.stepsByStage()).containsEntry("fusechat", 18L);
        double after = crossEntropy(r.modelDir(), heldOut);
        assertThat(after).as("held-out CE against the source: before %s, after %s", before, after)
                .isLessThan(before - 0.2);
        assertThat(Files.exists(r.report())).isTrue();
        assertThat(Json.read(r.report()).path("data").path("examples").asString()).isEqualTo("24");
    }

    @Test
    void everyStepReportsTheLossItsTermsAndTheLearningRate() throws Exception {
        FuseChatSpec spec = spec(", \"epochs\": 1, \"lr\": 0.001, \"lambdaSchedule\": \"rising\"");
        List<Map<String, ? extends Number>> steps = new ArrayList<>();
        Progress p = new Progress() {
            @Override
            public void progress(double fraction, String message) {
            }

            @Override
            public void metrics(String stage, long step, Map<String, ? extends Number> values) {
                assertThat(stage).isEqualTo("fusechat");
                assertThat(step).isEqualTo(steps.size() + 1);
                steps.add(values);
            }
        };
        FuseChatRunner.run(spec, tiny.pivot, tiny.source, tiny.pivotTrain, tiny.sourceTrain,
                dir.resolve("metrics/work"), dir.resolve("metrics/out"), p);
        assertThat(steps).hasSize(6);
        for (int i = 0; i < steps.size(); i++) {
            Map<String, ? extends Number> m = steps.get(i);
            double lambda = 0.9 + 0.1 * i / 6.0;
            assertThat(m.get("fuse/lambda").doubleValue()).isCloseTo(lambda, org.assertj.core.data.Offset.offset(1e-12));
            assertThat(m.get("fuse/loss").doubleValue()).as("step %s: the loss is lambda clm + (1 - lambda) fuse", i)
                    .isCloseTo(lambda * m.get("fuse/clm_loss").doubleValue()
                            + (1 - lambda) * m.get("fuse/distill_loss").doubleValue(),
                            org.assertj.core.data.Offset.offset(1e-4));
            // warmup 0.03 of 6 steps is one step, whose rate is 0 (transformers' schedule)
            double lr = m.get("learning_rate").doubleValue();
            assertThat(i == 0 ? lr == 0 : lr > 0).as("step %s: learning rate %s", i, lr).isTrue();
        }
        assertThat(Files.readAllLines(dir.resolve("metrics/work/metrics.jsonl"))).hasSize(6);
    }

    @Test
    void minCeTakesTheTargetsOfTheCandidateWithTheLowerMetricCe() {
        FuseChatData.Built fused = FuseChatData.build(tiny.pivot, tiny.pivotTrain, tiny.source, tiny.sourceTrain,
                FuseChatData.Settings.of(spec("")));
        FuseChatData.Built sourceOnly = FuseChatData.build(tiny.pivot, tiny.pivotTrain, tiny.source, tiny.sourceTrain,
                new FuseChatData.Settings(FusionFunction.MIN_CE, MetricLevel.SEQUENCE, 1.0, false, "ms", 128));
        Map<String, SampleRepresentation> pivot = byId(tiny.pivotTrain);
        Map<String, SampleRepresentation> source = byId(tiny.sourceTrain);
        int pivotWins = 0;
        for (int i = 0; i < fused.examples().size(); i++) {
            FuseChatExample e = fused.examples().get(i);
            boolean pivotBetter = pivot.get(e.id()).metricCe() <= source.get(e.id()).metricCe();
            List<SparseDistribution> expected = pivotBetter
                    ? TargetDistributions.of(pivot.get(e.id()).topK(), 1.0) : sourceOnly.examples().get(i).targets();
            pivotWins += pivotBetter ? 1 : 0;
            for (int t = 0; t + 1 < e.length(); t++) {
                if (e.labels()[t + 1] != FuseChatObjective.IGNORE_INDEX) {
                    assertThat(e.targets().get(t)).as(e.id() + " position " + t).isEqualTo(expected.get(t));
                } else {
                    assertThat(e.targets().get(t)).isNull();
                }
            }
        }
        StringBuilder metrics = new StringBuilder();
        pivot.forEach((id, r) -> metrics.append(id).append(": ").append(r.metricCe()).append(" vs ")
                .append(source.get(id).metricCe()).append("; "));
        assertThat(pivotWins).as("both candidates win some samples: " + metrics).isBetween(1, fused.examples().size() - 1);
    }

    @Test
    void aRunStoppedAtAnyStepAndResumedEndsWithTheBytesOfAnUninterruptedRun() throws Exception {
        // 24 samples, 4 per micro-batch, 2 per step: 3 steps an epoch, 2 epochs; checkpoints after steps 2, 4 and 6
        FuseChatSpec spec = spec(", \"epochs\": 2, \"gradAccum\": 2, \"lr\": 0.002, \"checkpointEvery\": 2,"
                + " \"weightDecay\": 0.01, \"maxGradNorm\": 0.5, \"lambdaSchedule\": \"rising\"");
        byte[] whole = weights(FuseChatRunner.run(spec, tiny.pivot, tiny.source, tiny.pivotTrain, tiny.sourceTrain,
                dir.resolve("whole/work"), dir.resolve("whole/out"), Progress.NONE));
        for (int stop : new int[] {1, 3, 4}) {
            Path work = dir.resolve("stop" + stop + "/work");
            Progress cancel = new Progress() {
                int steps;

                @Override
                public void progress(double fraction, String message) {
                }

                @Override
                public void metrics(String stage, long step, Map<String, ? extends Number> values) {
                    steps++;
                }

                @Override
                public boolean isCancelled() {
                    return steps >= stop;
                }
            };
            assertThatThrownBy(() -> FuseChatRunner.run(spec, tiny.pivot, tiny.source, tiny.pivotTrain,
                    tiny.sourceTrain, work, dir.resolve("stop" + stop + "/unused"), cancel))
                    .isInstanceOf(CancelledException.class);
            FusionResult resumed = FuseChatRunner.run(spec, tiny.pivot, tiny.source, tiny.pivotTrain,
                    tiny.sourceTrain, work, dir.resolve("stop" + stop + "/out"), Progress.NONE);
            if (stop == 1) {
                assertThat(resumed.resumedFrom()).as("no checkpoint before step 2").isNull();
            } else {
                assertThat(resumed.resumedFrom().getFileName().toString()).endsWith("step-" + (stop / 2 * 2));
            }
            assertThat(weights(resumed)).as("stopped after step " + stop).isEqualTo(whole);
        }
    }

    @Test
    void withLoraOnlyTheAdaptedProjectionsChangeAndAResumeEndsWithTheSameBytes() throws Exception {
        FuseChatSpec spec = spec(", \"epochs\": 1, \"gradAccum\": 2, \"lr\": 0.01, \"checkpointEvery\": 1,"
                + " \"lora\": {\"rank\": 4, \"alpha\": 8, \"targetModules\": [\"q_proj\", \"v_proj\"]}");
        FusionResult whole = FuseChatRunner.run(spec, tiny.pivot, tiny.source, tiny.pivotTrain, tiny.sourceTrain,
                dir.resolve("lora-whole/work"), dir.resolve("lora-whole/out"), Progress.NONE);
        try (var trained = dev.amalgam.modelio.HfModelDir.open(whole.modelDir());
                var original = dev.amalgam.modelio.HfModelDir.open(tiny.pivot)) {
            for (String name : List.of("model.layers.0.self_attn.q_proj.weight", "model.layers.1.self_attn.v_proj.weight")) {
                assertThat(trained.tensor(name).toFloatArray()).as(name).isNotEqualTo(original.tensor(name).toFloatArray());
            }
            for (String name : List.of("model.layers.0.self_attn.k_proj.weight", "model.layers.0.mlp.down_proj.weight")) {
                assertThat(trained.tensor(name).toFloatArray()).as(name).isEqualTo(original.tensor(name).toFloatArray());
            }
        }
        Path work = dir.resolve("lora-stop/work");
        Progress cancelAfterOne = new Progress() {
            int steps;

            @Override
            public void progress(double fraction, String message) {
            }

            @Override
            public void metrics(String stage, long step, Map<String, ? extends Number> values) {
                steps++;
            }

            @Override
            public boolean isCancelled() {
                return steps >= 1;
            }
        };
        assertThatThrownBy(() -> FuseChatRunner.run(spec, tiny.pivot, tiny.source, tiny.pivotTrain, tiny.sourceTrain,
                work, dir.resolve("lora-stop/unused"), cancelAfterOne)).isInstanceOf(CancelledException.class);
        FusionResult resumed = FuseChatRunner.run(spec, tiny.pivot, tiny.source, tiny.pivotTrain, tiny.sourceTrain,
                work, dir.resolve("lora-stop/out"), Progress.NONE);
        assertThat(resumed.resumedFrom()).isNotNull();
        assertThat(weights(resumed)).isEqualTo(weights(whole));
    }

    @Test
    void aCancelledJobStopsWhileAligningAndLeavesNoCheckpoint() {
        Progress cancelled = new Progress() {
            @Override
            public void progress(double fraction, String message) {
            }

            @Override
            public boolean isCancelled() {
                return true;
            }
        };
        assertThatThrownBy(() -> FuseChatRunner.run(spec(", \"epochs\": 1"), tiny.pivot, tiny.source,
                tiny.pivotTrain, tiny.sourceTrain, dir.resolve("cancel/work"), dir.resolve("cancel/out"), cancelled))
                .isInstanceOf(CancelledException.class).hasMessageContaining("aligning");
        assertThat(dir.resolve("cancel/work/checkpoints")).doesNotExist();
    }

    @Test
    void aWorkDirectoryRefusesAnotherSpec() {
        FuseChatSpec spec = spec(", \"epochs\": 1, \"lr\": 0.001");
        Path work = dir.resolve("pinned/work");
        FuseChatRunner.run(spec, tiny.pivot, tiny.source, tiny.pivotTrain, tiny.sourceTrain, work,
                dir.resolve("pinned/out"), Progress.NONE);
        assertThatThrownBy(() -> FuseChatRunner.run(spec(", \"epochs\": 1, \"lr\": 0.002"), tiny.pivot, tiny.source,
                tiny.pivotTrain, tiny.sourceTrain, work, dir.resolve("pinned/out2"), Progress.NONE))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("another spec");
    }

    @Test
    void representationsOfAnotherCorpusAreRefusedWithTheMissingId() {
        assertThatThrownBy(() -> FuseChatData.build(tiny.pivot, tiny.pivotTrain, tiny.source, tiny.sourceHeldOut,
                FuseChatData.Settings.of(spec(""))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not of the same corpus").hasMessageContaining("first: s1-0");
    }

    static Map<String, SampleRepresentation> byId(Path repr) {
        Map<String, SampleRepresentation> m = new HashMap<>();
        try (RepresentationReader r = RepresentationReader.open(repr)) {
            r.forEach(s -> m.put(s.id(), s));
        }
        return m;
    }

    static byte[] weights(FusionResult r) throws Exception {
        return Files.readAllBytes(r.modelDir().resolve("model.safetensors"));
    }

    /** The token mean of -sum_v q_v log p_v over the learned positions, with a plain forward of each sample. */
    static double crossEntropy(Path model, List<FuseChatExample> examples) {
        double sum = 0;
        long n = 0;
        try (LlamaModel m = CheckpointLoader.load(model, EngineOptions.cpu())) {
            for (FuseChatExample e : examples) {
                float[][] logits = logits(m, e.inputIds());
                FuseChatObjective.Loss l = FuseChatObjective.loss(logits, e.labels(), e.targets(), 0.0,
                        FuseLossType.CE);
                sum += l.fuse() * l.tokens();
                n += l.tokens();
            }
        }
        return sum / n;
    }

    static float[][] logits(LlamaModel m, int[] ids) {
        long[][] in = {Arrays.stream(ids).asLongStream().toArray()};
        try (NDManager scope = m.manager().newSubManager()) {
            NDArray logits = m.logits(scope.create(in), null, BlockMask.none());
            int v = (int) logits.getShape().get(2);
            float[] flat = logits.toFloatArray();
            float[][] rows = new float[ids.length][];
            for (int t = 0; t < ids.length; t++) {
                rows[t] = Arrays.copyOfRange(flat, t * v, (t + 1) * v);
            }
            return rows;
        }
    }
}
