package dev.amalgam.pruningservice;

import dev.amalgam.job.SpecReader;
import dev.amalgam.modelengine.CheckpointLoader;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.LlamaModel;
import dev.amalgam.modelengine.answers.AnswerFiles;
import dev.amalgam.modelengine.answers.AnswerSettings;
import dev.amalgam.modelengine.answers.AnswerTurn;
import dev.amalgam.modelengine.answers.BenchmarkAnswer;
import dev.amalgam.modelengine.answers.BenchmarkAnswers;
import dev.amalgam.modelengine.answers.BenchmarkFormat;
import dev.amalgam.modelengine.answers.BenchmarkQuestion;
import dev.amalgam.modelengine.generate.FinishReason;
import dev.amalgam.modelengine.text.TextTokenizer;
import dev.amalgam.modelio.Json;
import dev.amalgam.platform.artifact.ArtifactKind;
import dev.amalgam.platform.jobtype.JobInput;
import dev.amalgam.platform.jobtype.JobInputs;
import dev.amalgam.platform.jobtype.JobOutput;
import dev.amalgam.platform.jobtype.JobRun;
import dev.amalgam.platform.jobtype.JobType;
import dev.amalgam.platform.jobtype.Published;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;

/**
 * The generate job: a model answers a benchmark's question file (MT-Bench, AlpacaEval, Arena-Hard) through its chat
 * template, batched and KV-cached ({@link BenchmarkAnswers}), and the answers are published as a DATASET holding the
 * benchmark's answer file ({@link AnswerFiles}); the result records every decoding setting.
 */
@Component
public final class GenerateJobType implements JobType<GenerateJobSpec, GenerateJobType.ValidGeneration, GenerateJobResult> {

    /** What a modelId may be: it names the answer file, as the benchmarks' scripts do. */
    static final Pattern MODEL_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,199}");

    private final EngineOptions engine;
    private final Clock clock;

    @org.springframework.beans.factory.annotation.Autowired
    public GenerateJobType(@Value("${amalgam.engine.device:cpu}") String device) {
        this(EngineOptions.parse(device), Clock.systemUTC());
    }

    public GenerateJobType(EngineOptions engine, Clock clock) {
        this.engine = engine;
        this.clock = clock;
    }

    /** A validated generation: its questions are read (and checked) at validation. */
    public record ValidGeneration(JobInput model, JobInput questionFile, BenchmarkFormat format, String name,
            String modelId, AnswerSettings settings, List<BenchmarkQuestion> questions) implements JobType.Validated {
        @Override
        public List<JobInput> inputs() {
            return List.of(model, questionFile);
        }
    }

    @Override
    public String name() {
        return "generate";
    }

    @Override
    public int specVersion() {
        return 1;
    }

    @Override
    public String path() {
        return "/api/v1/generations";
    }

    @Override
    public String summary() {
        return "Queue a generation of a model's answers to a benchmark (MT-Bench, AlpacaEval, Arena-Hard answer files)";
    }

    @Override
    public Class<GenerateJobSpec> specClass() {
        return GenerateJobSpec.class;
    }

    @Override
    public Class<GenerateJobResult> resultClass() {
        return GenerateJobResult.class;
    }

    @Override
    public GenerateJobSpec read(SpecReader json) {
        String model = json.requiredString("model", "the MODEL artifact that answers");
        String questions = json.requiredString("questions", "the DATASET with the benchmark's questions");
        String format = json.oneOf("format", BenchmarkFormat.ids(), null);
        if (format == null && !json.has("format")) {
            json.problem("format", "the benchmark is required (one of " + String.join(", ", BenchmarkFormat.ids()) + ")");
        }
        String name = json.requiredString("name", "the name of the DATASET the answers are published as");
        String modelId = json.string("modelId");
        if (modelId != null && !MODEL_ID.matcher(modelId).matches()) {
            json.problem("modelId", "must be 1-200 letters, digits and . _ -, starting with a letter or digit");
        }
        Long maxNewTokens = json.integer("maxNewTokens", 1, GenerateJobSpec.MAX_NEW_TOKENS);
        Double temperature = json.number("temperature", 0, 100);
        Double topP = json.number("topP", 0, 1);
        if (topP != null && topP == 0) {
            json.problem("topP", "must be greater than 0");
            topP = null;
        }
        Long topK = json.integer("topK", 0, 1_000_000);
        long seed = json.longInteger("seed", 0);
        int choices = json.integer("choices", 1, GenerateJobSpec.MAX_CHOICES, 1);
        String systemPrompt = json.string("systemPrompt");
        int batchSize = json.integer("batchSize", 1, GenerateJobSpec.MAX_BATCH_SIZE, GenerateJobSpec.DEFAULT_BATCH_SIZE);
        Long limit = json.integer("limit", 1, 1_000_000_000);
        if (format != null && choices > 1 && !BenchmarkFormat.of(format).allowsSeveralChoices()) {
            json.problem("choices", "only mt_bench answer files hold several choices; " + format + " takes 1");
        }
        return new GenerateJobSpec(model, questions, format, name, modelId,
                maxNewTokens == null ? null : maxNewTokens.intValue(), temperature, topP,
                topK == null ? null : topK.intValue(), seed, choices, systemPrompt, batchSize,
                limit == null ? null : limit.intValue());
    }

    @Override
    public ValidGeneration validate(GenerateJobSpec spec, JobInputs inputs, List<String> problems) {
        JobInput model = inputs.model("model", spec.model(), problems);
        JobInput questionFile = inputs.datasetFile("questions", spec.questions(), problems);
        if (spec.name() != null) {
            inputs.checkOutputNames("name", Map.of("the answer file", spec.name()), problems);
        }
        if (model != null) {
            String template = chatTemplateProblem(model.location());
            if (template != null) {
                problems.add("model: " + template);
            }
        }
        String modelId = spec.modelId();
        if (modelId == null && model != null) {
            modelId = model.name().replace('/', '_');
            if (!MODEL_ID.matcher(modelId).matches()) {
                problems.add("modelId: the model's name '" + model.name() + "' cannot name an answer file; give a modelId");
            }
        }
        BenchmarkFormat format = spec.format() == null ? null : BenchmarkFormat.of(spec.format());
        List<BenchmarkQuestion> questions = null;
        if (format != null && questionFile != null) {
            try {
                questions = format.load(questionFile.location(), spec.limit());
            } catch (RuntimeException e) {
                problems.add("questions: " + e.getMessage());
            }
        }
        if (!problems.isEmpty() || format == null) {
            return null;
        }
        AnswerSettings defaults = AnswerSettings.defaults(format);
        AnswerSettings settings = new AnswerSettings(
                spec.maxNewTokens() == null ? defaults.maxNewTokens() : spec.maxNewTokens(), spec.temperature(),
                spec.topP() == null ? defaults.topP() : spec.topP(), spec.topK() == null ? defaults.topK() : spec.topK(),
                spec.seed() == null ? 0 : spec.seed(), spec.choices() == null ? 1 : spec.choices(), spec.systemPrompt(),
                spec.batchSize() == null ? GenerateJobSpec.DEFAULT_BATCH_SIZE : spec.batchSize());
        return new ValidGeneration(model, questionFile, format, spec.name(), modelId, settings, List.copyOf(questions));
    }

    /** Why the model's prompts cannot be rendered (no tokenizer.json, no chat template), or null; from its files. */
    static String chatTemplateProblem(Path modelDir) {
        if (!Files.isRegularFile(modelDir.resolve("tokenizer.json"))) {
            return "has no tokenizer.json";
        }
        if (Files.isRegularFile(modelDir.resolve("chat_template.jinja"))) {
            return null;
        }
        Path config = modelDir.resolve("tokenizer_config.json");
        try {
            JsonNode t = Files.isRegularFile(config) ? Json.MAPPER.readTree(config.toFile()).path("chat_template") : null;
            if (t != null && (t.isString() || t.isArray())) {
                return null;
            }
        } catch (RuntimeException e) {
            return "tokenizer_config.json is not JSON: " + e.getMessage();
        }
        return "has no chat template (tokenizer_config.json chat_template or chat_template.jinja); the answers are "
                + "generated through the model's own chat template";
    }

    @Override
    public GenerateJobResult run(ValidGeneration job, JobRun run) throws Exception {
        run.progress(0, "loading " + job.model().name());
        List<BenchmarkAnswer> answers;
        Path staged = run.newStagingDir();
        String file = job.format().answerFileName(job.modelId());
        String templateSha;
        try (TextTokenizer tokenizer = TextTokenizer.load(job.model().location());
                LlamaModel model = CheckpointLoader.load(job.model().location(), engine)) {
            templateSha = sha256(tokenizer.chatTemplate().orElseThrow(
                    () -> new IllegalStateException("the model has no chat template")).source());
            answers = BenchmarkAnswers.generate(model, tokenizer, job.format(), job.questions(), job.settings(),
                    new BenchmarkAnswers.Listener() {
                        @Override
                        public void onProgress(int done, int total) {
                            run.throwIfCancelled();
                            run.progress(done / (double) total, "answers: " + done + " of " + total);
                        }

                        @Override
                        public void onStep() {
                            run.throwIfCancelled();
                        }
                    });
            new AnswerFiles(clock).write(job.format(), job.modelId(), answers, job.settings(), tokenizer,
                    staged.resolve(file));
        }
        int generated = 0;
        int truncated = 0;
        long tokens = 0;
        Map<String, Double> temperatures = new TreeMap<>();
        for (BenchmarkAnswer a : answers) {
            temperatures.put(a.question().category() == null ? "" : a.question().category(), a.temperature());
            for (List<AnswerTurn> choice : a.choices()) {
                for (AnswerTurn t : choice) {
                    generated++;
                    tokens += t.tokens();
                    truncated += t.finishReason() == FinishReason.LENGTH ? 1 : 0;
                }
            }
        }
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("answers", (double) generated);
        metrics.put("truncatedAnswers", (double) truncated);
        metrics.put("generatedTokens", (double) tokens);
        run.metrics(null, 0, metrics);
        List<Published> published = run.publishAll(
                List.of(new JobOutput(ArtifactKind.DATASET, "answers", job.name(), staged)), job.inputs());
        AnswerSettings s = job.settings();
        return new GenerateJobResult(published.get(0).reference(), file, job.format().id(), job.modelId(),
                answers.size(), generated, truncated, tokens,
                new GenerateJobResult.Settings(s.maxNewTokens(), s.temperature(), temperatures, s.topP(), s.topK(),
                        s.seed(), s.choices(), s.systemPrompt(), s.batchSize(), templateSha));
    }

    private static String sha256(String text) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    }
}
