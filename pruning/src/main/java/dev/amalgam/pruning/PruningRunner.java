package dev.amalgam.pruning;

import ai.djl.ndarray.types.DataType;
import dev.amalgam.modelengine.BlockMask;
import dev.amalgam.modelengine.CheckpointLoader;
import dev.amalgam.modelengine.DjlRuntime;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.LlamaConfig;
import dev.amalgam.modelengine.LlamaModel;
import dev.amalgam.modelengine.UnsupportedModelException;
import dev.amalgam.modelengine.eval.Perplexity;
import dev.amalgam.modelengine.eval.PerplexityResult;
import dev.amalgam.modelengine.eval.TokenChunks;
import dev.amalgam.modelengine.text.TextTokenizer;
import dev.amalgam.modelio.HfModelDir;
import dev.amalgam.modelio.Json;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Supplier;

/**
 * Runs a {@link PruneSpec} on a model directory: calibration data, the method's search (resumable), the pruned
 * checkpoint and the report. The job handler and the CLI call this. The spec's method is the one
 * {@link PruneMethods} registers under the spec's {@code method} name; every method runs through the same
 * entry point, on one {@link SearchRun}, so the checkpoint, the report and resuming are the same for all.
 *
 * <pre>{@code
 * PruningResult r = PruningRunner.run(PruneSpec.blockPruner(12), modelDir, calibration, null, outDir, null,
 *         PruningListener.NONE);
 * // outDir/model/ = pruned Hugging Face checkpoint, outDir/report.json = the report
 * }</pre>
 */
public final class PruningRunner {

    /** Sub-directory of {@code outDir} holding the pruned model. */
    public static final String MODEL_DIR = "model";
    /** File in {@code outDir} holding the report. */
    public static final String REPORT_FILE = "report.json";

    private PruningRunner() {
    }

    /**
     * Every problem of {@code spec} for the model in {@code modelDir}, reading only its config.json (for a 422 before
     * a job is queued): the spec's own problems, an unsupported or non-causal model, too many blocks, an unreachable
     * target ratio, a sequence length beyond the model's context.
     */
    public static List<String> validate(PruneSpec spec, Path modelDir) {
        List<String> problems = spec.validate();
        if (!problems.isEmpty()) {
            return problems;
        }
        try {
            return spec.validateFor(LlamaConfig.read(modelDir.resolve(HfModelDir.CONFIG_FILE)));
        } catch (UnsupportedModelException | UncheckedIOException e) {
            return List.of("model: " + e.getMessage());
        }
    }

    /** As {@link #run(PruneSpec, Path, Path, Path, Path, PruningState, PruningListener, EngineOptions)} on the
     * default device: the first GPU in FP16 when PyTorch sees one, else the CPU in FP32. */
    public static PruningResult run(PruneSpec spec, Path modelDir, Path calibrationJsonl, Path evalJsonlOrNull,
            Path outDir, PruningState resumeFromOrNull, PruningListener listener) {
        EngineOptions options = DjlRuntime.gpuCount() > 0 ? EngineOptions.gpuFp16(0) : EngineOptions.cpu();
        return run(spec, modelDir, calibrationJsonl, evalJsonlOrNull, outDir, resumeFromOrNull, listener, options);
    }

    /**
     * @param resumeFromOrNull a checkpoint from {@link PruningProgress#state()} of an earlier run of the same job
     * @throws InvalidPruneSpecException when the spec or its fit to the model is invalid
     * @throws dev.amalgam.job.CancelledException when the listener cancels (its state resumes the run)
     */
    public static PruningResult run(PruneSpec spec, Path modelDir, Path calibrationJsonl, Path evalJsonlOrNull,
            Path outDir, PruningState resumeFromOrNull, PruningListener listener, EngineOptions options) {
        List<String> problems = spec.validate();
        if (!problems.isEmpty()) {
            throw new InvalidPruneSpecException(problems);
        }
        try (HfModelDir hf = HfModelDir.open(modelDir);
                LazyTokenizer tokenizer = new LazyTokenizer(modelDir)) {
            LlamaConfig config = LlamaConfig.fromJson(hf.config());
            problems = spec.validateFor(config);
            if (!problems.isEmpty()) {
                throw new InvalidPruneSpecException(problems);
            }
            TokenChunks calibration = CalibrationData.load(calibrationJsonl, tokenizer, spec.samples(), spec.seqLen(),
                    spec.seed());
            String fingerprint = fingerprint(spec, hf, calibration);
            SearchRun run = new SearchRun(spec, ParameterCounts.of(config), listener,
                    resumeState(spec, fingerprint, resumeFromOrNull));
            try (LlamaModel model = CheckpointLoader.load(hf, options)) {
                return prune(new RunInputs(spec, hf, model, calibration, tokenizer, evalJsonlOrNull, outDir, options),
                        run);
            }
        }
    }

    /**
     * What a run works on once the spec is checked, the calibration set read and the model loaded.
     *
     * @param evalJsonl the evaluation dataset, or null
     */
    private record RunInputs(PruneSpec spec, HfModelDir hf, LlamaModel model, TokenChunks calibration,
            Supplier<TextTokenizer> tokenizer, Path evalJsonl, Path outDir, EngineOptions options) {
    }

    /** The method's search on {@code run} (fresh or resumed), then the evaluation, the checkpoint and the report. */
    private static PruningResult prune(RunInputs in, SearchRun run) {
        PruneSpec spec = in.spec();
        LlamaModel model = in.model();
        int resumedSteps = run.state().steps().size();
        List<List<Block>> candidates = spec.method().candidates(model.config().numHiddenLayers(), spec.candidates());
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long start = System.nanoTime();
        long cpuStart = threads.getCurrentThreadCpuTime();
        int stride;
        double densePpl;
        long forwards;
        try (BlockRunner runner = new BlockRunner(model, in.calibration(), spec.batchSize())) {
            stride = cacheStride(spec, model, in.calibration());
            try (BlockScorer scorer = new BlockScorer(runner, stride)) {
                densePpl = scorer.score(new int[0]);
                spec.method().prune(new PruneSearch(run, runner, scorer, candidates));
                forwards = runner.blockForwards();
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        double cpuSeconds = (threads.getCurrentThreadCpuTime() - cpuStart) / 1e9;
        PruningState finalState = run.state();
        List<Block> removed = new ArrayList<>(finalState.removedBlocks());
        removed.sort(Block.FORWARD_ORDER);
        List<PruneStep> steps = finalState.steps();
        double prunedPpl = steps.isEmpty() ? densePpl : steps.get(steps.size() - 1).perplexity();

        Double evalBefore = null;
        Double evalAfter = null;
        Long evalTokens = null;
        if (in.evalJsonl() != null) {
            TokenChunks eval = CalibrationData.load(in.evalJsonl(), in.tokenizer(), Integer.MAX_VALUE, spec.seqLen(),
                    0);
            PerplexityResult before = Perplexity.evaluate(model, eval, BlockMask.none(), spec.batchSize());
            PerplexityResult after = Perplexity.evaluate(model, eval, Block.mask(removed), spec.batchSize());
            evalBefore = before.perplexity();
            evalAfter = after.perplexity();
            evalTokens = before.tokens();
        }
        Path modelOut = in.outDir().resolve(MODEL_DIR);
        int[] layerMap = PrunedCheckpoint.write(in.hf(), removed, spec.output(), spec.method().specName(), modelOut);
        Path report = in.outDir().resolve(REPORT_FILE);
        ParameterCounts counts = run.counts();
        PruningResult result = new PruningResult(spec.method(), steps, removed, densePpl, prunedPpl, evalBefore,
                evalAfter, counts.total(), counts.remaining(removed), counts.ratio(removed), modelOut, report,
                forwards, seconds, cpuSeconds, finalState);
        PruningReport.write(report, spec, result, new PruningReport.SearchInfo(stride, resumedSteps,
                in.options().device() + "/" + in.options().computeType()), layerMap, in.calibration().chunks().size(),
                in.calibration().predictedTokens(), evalTokens, finalState.scores(),
                finalState.scores() == null ? null : candidates);
        return result;
    }

    /**
     * Positions between cached hidden states so that the cache fits {@code cacheBudgetMb}: 1 caches every block's
     * input; 0 (budget 0, or not even two states fit) runs the plain search.
     */
    static int cacheStride(PruneSpec spec, LlamaModel model, TokenChunks calibration) {
        long tokens = 0;
        for (int[] c : calibration.chunks()) {
            tokens += c.length;
        }
        int bytes = model.options().computeType() == DataType.FLOAT16 ? 2 : 4;
        long perState = tokens * model.config().hiddenSize() * bytes;
        long budget = (long) spec.cacheBudgetMb() << 20;
        int positions = 2 * model.config().numHiddenLayers();
        for (int stride = 1; stride <= positions; stride++) {
            long stored = positions / stride + 2; // multiples of the stride, plus the final state
            if (stored * perState <= budget) {
                return stride;
            }
        }
        return 0;
    }

    private static PruningState resumeState(PruneSpec spec, String fingerprint, PruningState resume) {
        if (resume == null) {
            return new PruningState(PruningState.VERSION, spec.method().specName(), fingerprint, null, List.of());
        }
        if (resume.version() != PruningState.VERSION || !spec.method().specName().equals(resume.method())) {
            throw new IllegalArgumentException("cannot resume: the checkpoint is from method '" + resume.method()
                    + "' (format " + resume.version() + "), the spec asks for '" + spec.method().specName() + "'");
        }
        if (!fingerprint.equals(resume.fingerprint())) {
            throw new IllegalArgumentException("cannot resume: the checkpoint was made with another model, "
                    + "calibration set or calibration settings");
        }
        return resume;
    }

    /** SHA-256 of everything that decides the search's choices. */
    static String fingerprint(PruneSpec spec, HfModelDir hf, TokenChunks calibration) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            String settings = spec.method().specName() + "|" + spec.candidates().specName() + "|" + spec.samples()
                    + "|" + spec.seqLen() + "|" + spec.seed() + "|" + spec.batchSize() + "|"
                    + Json.toCompactString(hf.config());
            sha.update(settings.getBytes(StandardCharsets.UTF_8));
            for (int[] chunk : calibration.chunks()) {
                for (int id : chunk) {
                    sha.update((byte) id);
                    sha.update((byte) (id >>> 8));
                    sha.update((byte) (id >>> 16));
                    sha.update((byte) (id >>> 24));
                }
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Opens the model's tokenizer on first use (input_ids datasets never need one). */
    private static final class LazyTokenizer implements Supplier<TextTokenizer>, AutoCloseable {
        private final Path modelDir;
        private TextTokenizer tokenizer;

        LazyTokenizer(Path modelDir) {
            this.modelDir = modelDir;
        }

        @Override
        public TextTokenizer get() {
            if (tokenizer == null) {
                if (!Files.exists(modelDir.resolve("tokenizer.json"))) {
                    throw new IllegalArgumentException(modelDir + " has no tokenizer.json to tokenise \"text\" rows; "
                            + "give \"input_ids\" rows instead");
                }
                tokenizer = TextTokenizer.load(modelDir);
            }
            return tokenizer;
        }

        @Override
        public void close() {
            if (tokenizer != null) {
                tokenizer.close();
            }
        }
    }
}
