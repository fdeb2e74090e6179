package dev.amalgam.pruning;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.amalgam.modelengine.BlockMask;
import dev.amalgam.modelengine.CheckpointLoader;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.ForwardOutput;
import dev.amalgam.modelengine.LlamaModel;
import dev.amalgam.modelengine.eval.Perplexity;
import dev.amalgam.modelengine.eval.TokenChunks;
import dev.amalgam.modelengine.text.TextTokenizer;
import dev.amalgam.modelio.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/** End to end: spec, calibration text, search, checkpoint, report, resume, and the baselines. */
class PruningRunnerTest {

    @TempDir
    static Path tmp;
    static Path model;
    static Path calibration;
    static Path eval;

    @BeforeAll
    static void setUp() {
        model = Tiny.llama(tmp.resolve("m"));
        calibration = Tiny.textJsonl(tmp.resolve("cal.jsonl"), 20, 1);
        eval = Tiny.textJsonl(tmp.resolve("eval.jsonl"), 6, 2);
    }

    static PruneSpec spec(int blocks) {
        return PruneSpec.blockPruner(blocks).withCalibration(12, 48, 42, 2);
    }

    static PruningResult run(PruneSpec spec, String out, PruningState resume, PruningListener listener) {
        return PruningRunner.run(spec, model, calibration, eval, tmp.resolve(out), resume, listener,
                EngineOptions.cpu());
    }

    static TokenChunks calibrationChunks(PruneSpec spec) {
        try (TextTokenizer tok = TextTokenizer.load(model)) {
            return CalibrationData.load(calibration, () -> tok, spec.samples(), spec.seqLen(), spec.seed());
        }
    }

    @Test
    void blockPrunerWritesModelAndReport() {
        List<PruningProgress> events = new ArrayList<>();
        PruningResult r = run(spec(3), "bp", null, events::add);
        assertThat(r.steps()).hasSize(3);
        assertThat(events).extracting(PruningProgress::step).containsExactly(1, 2, 3);
        assertThat(events).extracting(PruningProgress::totalSteps).containsOnly(3);
        assertThat(events.get(2).state()).isEqualTo(r.finalState());
        assertThat(r.removedBlocks()).hasSize(3).isSortedAccordingTo(Block.FORWARD_ORDER);
        ParameterCounts counts;
        try (LlamaModel m = CheckpointLoader.load(model, EngineOptions.cpu())) {
            counts = ParameterCounts.of(m.config());
            // Perplexities against the engine's own evaluation (an independent forward).
            TokenChunks cal = calibrationChunks(spec(3));
            double dense = Perplexity.evaluate(m, cal, BlockMask.none(), 1).perplexity();
            double pruned = Perplexity.evaluate(m, cal, Block.mask(r.removedBlocks()), 1).perplexity();
            assertThat(r.calibrationPerplexityBefore()).isCloseTo(dense, within(dense * 1e-5));
            assertThat(r.calibrationPerplexityAfter()).isCloseTo(pruned, within(pruned * 1e-5));
            double evalDense = Perplexity.evaluate(model, eval, 48, EngineOptions.cpu()).perplexity();
            assertThat(r.evalPerplexityBefore()).isCloseTo(evalDense, within(evalDense * 1e-5));
        }
        assertThat(r.parameterRatio()).isEqualTo(counts.ratio(r.removedBlocks()));
        assertThat(r.prunedParameters()).isEqualTo(counts.total() - r.removedBlocks().stream().mapToLong(counts::of).sum());

        JsonNode report = Json.read(r.reportFile());
        assertThat(r.reportFile()).isEqualTo(tmp.resolve("bp").resolve("report.json"));
        assertThat(report.get("method").asString()).isEqualTo("blockpruner");
        JsonNode order = report.get("removalOrder");
        assertThat(order.propertyNames()).containsExactly("1", "2", "3");
        for (int k = 1; k <= 3; k++) {
            JsonNode set = order.get(String.valueOf(k));
            assertThat(set.size()).isEqualTo(k);
            for (JsonNode pair : set) { // [["mha", 2], ["mlp", 0]]: name, layer
                assertThat(pair.get(0).asString()).isIn("mha", "mlp");
                assertThat(pair.get(1).isIntegralNumber()).isTrue();
            }
        }
        assertThat(order.get("3").toString()).isEqualTo(PruningReport.referenceList(r.removedBlocks()).toString());
        assertThat(report.get("steps").get(0).get("perplexity").asDouble()).isEqualTo(r.steps().get(0).perplexity());
        assertThat(report.get("evaluation").get("perplexityAfter").asDouble()).isEqualTo(r.evalPerplexityAfter());
        assertThat(report.get("search").get("cached").asBoolean()).isTrue();
        assertThat(Files.exists(r.modelDir().resolve("config.json"))).isTrue();
        try (LlamaModel pruned = CheckpointLoader.load(r.modelDir(), EngineOptions.cpu())) {
            double reloaded = Perplexity.evaluate(pruned, calibrationChunks(spec(3)), BlockMask.none(), 1).perplexity();
            assertThat(reloaded).isCloseTo(r.calibrationPerplexityAfter(), within(reloaded * 1e-5));
        }
    }

    @Test
    void resumedRunEqualsUninterruptedRun() throws Exception {
        PruningResult whole = run(spec(4), "whole", null, PruningListener.NONE);
        List<PruningState> saved = new ArrayList<>();
        PruningListener dyingAfterTwo = new PruningListener() {
            @Override
            public void onStep(PruningProgress progress) {
                saved.add(progress.state());
            }

            @Override
            public boolean isCancelled() {
                return saved.size() == 2;
            }
        };
        assertThatThrownBy(() -> run(spec(4), "part", null, dyingAfterTwo))
                .isInstanceOf(dev.amalgam.job.CancelledException.class);
        assertThat(saved).as("the run stopped after the second step's checkpoint").hasSize(2);
        // The job store keeps JSON; the new worker reads it back.
        String stored = Json.toCompactString(saved.get(1).toJson());
        PruningState state = PruningState.fromJson(Json.MAPPER.readTree(stored));
        assertThat(state).isEqualTo(saved.get(1));
        List<Integer> resumedSteps = new ArrayList<>();
        PruningResult resumed = run(spec(4), "resumed", state, p -> resumedSteps.add(p.step()));
        assertThat(resumedSteps).containsExactly(3, 4);
        assertThat(resumed.steps()).isEqualTo(whole.steps());
        assertThat(resumed.removedBlocks()).isEqualTo(whole.removedBlocks());
        assertThat(resumed.blockForwards()).isLessThan(whole.blockForwards());
        assertThat(Files.readAllBytes(resumed.modelDir().resolve("model.safetensors")))
                .isEqualTo(Files.readAllBytes(whole.modelDir().resolve("model.safetensors")));
        assertThat(Files.readString(resumed.modelDir().resolve("config.json")))
                .isEqualTo(Files.readString(whole.modelDir().resolve("config.json")));
        // Asking for fewer blocks than the checkpoint holds gives the nested prefix.
        PruningResult shorter = run(spec(1), "shorter", state, PruningListener.NONE);
        assertThat(shorter.steps()).containsExactly(whole.steps().get(0));
        // A checkpoint of other inputs is refused.
        assertThatThrownBy(() -> run(spec(4).withCalibration(12, 48, 7, 2), "other", state, PruningListener.NONE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cannot resume");
    }

    @Test
    void oneShotRunsResumeWithTheirStoredScores() {
        PruneSpec spec = spec(4).withMethod(PruneMethods.get("shortgpt"));
        PruningResult whole = run(spec, "sg-whole", null, PruningListener.NONE);
        List<PruningState> saved = new ArrayList<>();
        PruningListener dyingAfterOne = new PruningListener() {
            @Override
            public void onStep(PruningProgress progress) {
                saved.add(progress.state());
            }

            @Override
            public boolean isCancelled() {
                return !saved.isEmpty();
            }
        };
        assertThatThrownBy(() -> run(spec, "sg-part", null, dyingAfterOne)).isInstanceOf(dev.amalgam.job.CancelledException.class);
        PruningState state = PruningState.fromJson(saved.get(0).toJson());
        assertThat(state.scores()).hasSize(4).isEqualTo(whole.finalState().scores());
        PruningResult resumed = run(spec, "sg-resumed", state, PruningListener.NONE);
        assertThat(resumed.steps()).isEqualTo(whole.steps());
        assertThat(resumed.finalState()).isEqualTo(whole.finalState());
    }

    @Test
    void badSpecsAreRejectedWithEveryProblem() {
        assertThatThrownBy(() -> run(spec(8), "bad", null, PruningListener.NONE))
                .isInstanceOf(InvalidPruneSpecException.class)
                .satisfies(e -> assertThat(((InvalidPruneSpecException) e).problems()).singleElement().asString()
                        .contains("at most 7 blocks"));
        assertThatThrownBy(() -> run(spec(3).withCalibration(0, 4096, 1, 0), "bad2", null, PruningListener.NONE))
                .isInstanceOf(InvalidPruneSpecException.class)
                .satisfies(e -> assertThat(((InvalidPruneSpecException) e).problems()).hasSize(2));
    }

    @Test
    void validateReadsOnlyTheConfig() throws Exception {
        assertThat(PruningRunner.validate(spec(7), model)).isEmpty();
        assertThat(PruningRunner.validate(spec(8), model)).singleElement().asString().contains("at most 7 blocks");
        assertThat(PruningRunner.validate(spec(0), model)).singleElement().asString().startsWith("blocks:");
        assertThat(PruningRunner.validate(spec(2), tmp.resolve("nowhere"))).singleElement().asString()
                .startsWith("model: ");
        Path reward = Tiny.write(tmp.resolve("reward").resolve("config.json"), Files.readString(model.resolve(
                "config.json")).replace("LlamaForCausalLM", "LlamaForSequenceClassification"));
        assertThat(PruningRunner.validate(spec(2), reward.getParent())).singleElement().asString()
                .contains("causal language model");
    }

    /** ShortGPT and Relative Magnitude against a naive computation on the engine's hidden states. */
    @Test
    void layerBaselinesRemoveTheLeastImportantLayers() {
        PruneSpec spec = spec(4).withMethod(PruneMethods.get("shortgpt"));
        double[] bi = new double[4];
        double[] rm = new double[4];
        TokenChunks cal = calibrationChunks(spec);
        long tokens = 0;
        try (LlamaModel m = CheckpointLoader.load(model, EngineOptions.cpu());
                NDManager scratch = m.manager().newSubManager()) {
            for (int[] chunk : cal.chunks()) {
                NDArray ids = scratch.create(new long[][] {IntStream.of(chunk).asLongStream().toArray()});
                ForwardOutput out = m.forward(ids, null, BlockMask.none(), null, true);
                int hidden = m.config().hiddenSize();
                for (int i = 0; i < 4; i++) {
                    float[] x = out.hiddenStates().get(i).toFloatArray();
                    float[] y = out.hiddenStates().get(i + 1).toFloatArray();
                    for (int t = 0; t < chunk.length; t++) {
                        double dot = 0, nx = 0, ny = 0, nd = 0;
                        for (int j = t * hidden; j < (t + 1) * hidden; j++) {
                            dot += x[j] * (double) y[j];
                            nx += x[j] * (double) x[j];
                            ny += y[j] * (double) y[j];
                            nd += (y[j] - (double) x[j]) * (y[j] - (double) x[j]);
                        }
                        bi[i] += dot / Math.sqrt(nx * ny);
                        rm[i] += Math.sqrt(nd / ny);
                    }
                }
                tokens += chunk.length;
            }
        }
        for (int i = 0; i < 4; i++) {
            bi[i] = 1 - bi[i] / tokens;
            rm[i] = rm[i] / tokens;
        }
        PruningResult shortGpt = run(spec, "shortgpt", null, PruningListener.NONE);
        PruningResult magnitude = run(spec.withMethod(PruneMethods.get("relative_magnitude")), "rm", null,
                PruningListener.NONE);
        for (int i = 0; i < 4; i++) {
            assertThat(shortGpt.finalState().scores().get(i)).isCloseTo(bi[i], within(1e-4));
            assertThat(magnitude.finalState().scores().get(i)).isCloseTo(rm[i], within(1e-4));
        }
        assertThat(layersOf(shortGpt)).containsExactlyElementsOf(lowest(bi, 2));
        assertThat(layersOf(magnitude)).containsExactlyElementsOf(lowest(rm, 2));
        assertThat(shortGpt.steps()).allMatch(s -> s.blocks().size() == 2);
    }

    @Test
    void oneShotBlockRemovalTakesTheLowestFirstRoundPerplexities() {
        PruneSpec spec = spec(3).withMethod(PruneMethods.get("oneshot_block")).withCandidates(Candidates.MIX);
        PruningResult r = run(spec, "oneshot", null, PruningListener.NONE);
        List<Double> firstRound = new ArrayList<>();
        List<Block> candidates = new ArrayList<>();
        try (LlamaModel m = CheckpointLoader.load(model, EngineOptions.cpu())) {
            TokenChunks cal = calibrationChunks(spec);
            for (BlockType type : BlockType.values()) {
                for (int i = 0; i < 4; i++) {
                    Block b = new Block(i, type);
                    candidates.add(b);
                    firstRound.add(Perplexity.evaluate(m, cal, Block.mask(List.of(b)), 2).perplexity());
                }
            }
        }
        for (int i = 0; i < 8; i++) {
            assertThat(r.finalState().scores().get(i)).isCloseTo(firstRound.get(i), within(firstRound.get(i) * 1e-5));
        }
        List<Block> expected = IntStream.range(0, 8).boxed().sorted(Comparator.comparing(firstRound::get))
                .limit(3).map(candidates::get).toList();
        assertThat(r.steps()).flatExtracting(PruneStep::blocks).containsExactlyElementsOf(expected);
    }

    private static List<Integer> layersOf(PruningResult r) {
        return r.steps().stream().map(s -> s.blocks().get(0).layer()).toList();
    }

    private static List<Integer> lowest(double[] scores, int n) {
        return IntStream.range(0, scores.length).boxed().sorted(Comparator.comparingDouble(i -> scores[i])).limit(n)
                .toList();
    }
}
