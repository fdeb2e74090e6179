package dev.amalgam.pruningservice;

import dev.amalgam.job.SpecReader;
import dev.amalgam.modelengine.judge.AlpacaEval;
import dev.amalgam.modelengine.judge.ArenaHard;
import dev.amalgam.modelengine.judge.ChatClient;
import dev.amalgam.modelengine.judge.JudgeEndpointException;
import dev.amalgam.modelengine.judge.JudgeTask;
import dev.amalgam.modelengine.judge.Judging;
import dev.amalgam.modelengine.judge.MtBench;
import dev.amalgam.platform.artifact.ArtifactKind;
import dev.amalgam.platform.credential.CredentialService;
import dev.amalgam.platform.jobtype.JobCredential;
import dev.amalgam.platform.jobtype.JobInput;
import dev.amalgam.platform.jobtype.JobInputs;
import dev.amalgam.platform.jobtype.JobOutput;
import dev.amalgam.platform.jobtype.JobRun;
import dev.amalgam.platform.jobtype.JobType;
import dev.amalgam.platform.jobtype.Published;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;

/**
 * The judge job: benchmark answers (MT-Bench, AlpacaEval, Arena-Hard files) judged by an OpenAI-compatible chat
 * endpoint with the benchmarks' published prompts ({@link dev.amalgam.modelengine.judge}); the judgments are one
 * DATASET, the scores the job's result. Each judgment is written to the job's work directory as it is made: when the
 * endpoint fails for good the job fails with its status and message, and what was judged is published as
 * {@code name-partial}.
 */
@Component
public final class JudgeJobType implements JobType<JudgeJobSpec, JudgeJobType.ValidJudge, JudgeJobResult> {

    /** Only variables named like API keys may be read: a spec must not be able to send any other secret of the worker. */
    static final Pattern API_KEY_ENV = Pattern.compile("[A-Z][A-Z0-9_]{0,120}API_KEY");
    static final String JUDGMENTS_FILE = "judgments.jsonl";
    static final Duration INITIAL_BACKOFF = Duration.ofSeconds(1);
    static final Duration MAX_BACKOFF = Duration.ofSeconds(60);

    private final Function<String, String> environment;

    /** Reads keys from the process environment (and, through Spring, from the service's configuration). */
    @org.springframework.beans.factory.annotation.Autowired
    public JudgeJobType(Environment environment) {
        this(environment::getProperty);
    }

    /** Reads keys from the process environment. */
    public JudgeJobType() {
        this(System::getenv);
    }

    /** @param environment looks up the variable that {@code judge.apiKeyEnv} names */
    public JudgeJobType(Function<String, String> environment) {
        this.environment = environment;
    }

    /**
     * A validated judge job: its inputs and every judge request, built (and so checked) at validation. The key comes
     * from {@code apiKeyEnv} or {@code credential} (opened only when the job runs), or there is none.
     */
    public record ValidJudge(Judging.Benchmark benchmark, List<JobInput> inputs, List<JudgeTask> tasks, String url,
                             String model, String apiKeyEnv, JobCredential credential, double requestsPerMinute,
                             int maxRetries, int timeoutSeconds, int parallel, String name) implements JobType.Validated {
        public ValidJudge {
            inputs = List.copyOf(inputs);
            tasks = List.copyOf(tasks);
        }
    }

    @Override
    public String name() {
        return "judge";
    }

    @Override
    public int specVersion() {
        return 1;
    }

    @Override
    public String path() {
        return "/api/v1/judgments";
    }

    @Override
    public String summary() {
        return "Queue the judging of benchmark answers (MT-Bench, AlpacaEval, Arena-Hard) by an OpenAI-compatible endpoint";
    }

    @Override
    public Class<JudgeJobSpec> specClass() {
        return JudgeJobSpec.class;
    }

    @Override
    public Class<JudgeJobResult> resultClass() {
        return JudgeJobResult.class;
    }

    @Override
    public JudgeJobSpec read(SpecReader json) {
        String benchmark = json.oneOf("benchmark", Judging.Benchmark.ids(), null);
        if (benchmark == null && !json.has("benchmark")) {
            json.problem("benchmark", "required (one of " + String.join(", ", Judging.Benchmark.ids()) + ")");
        }
        String answers = json.requiredString("answers", "the answers DATASET");
        String baseline = json.string("baseline");
        String questions = json.string("questions");
        String references = json.string("references");
        JudgeJobSpec.Endpoint endpoint = null;
        SpecReader judge = json.object("judge");
        if (judge == null) {
            if (!json.has("judge")) {
                json.problem("judge", "the endpoint {url, model, and apiKeyEnv or credential} is required");
            }
        } else {
            String url = judge.requiredString("url", "the endpoint's API root");
            if (url != null && !isHttpUrl(url)) {
                judge.problem("url", "must be an http or https URL with a host");
            }
            String model = judge.requiredString("model", "the judge model's name");
            String keyEnv = judge.string("apiKeyEnv");
            if (keyEnv != null && !API_KEY_ENV.matcher(keyEnv).matches()) {
                judge.problem("apiKeyEnv", "must name an environment variable in upper case ending in API_KEY");
            }
            String credential = judge.string("credential");
            if (credential != null && !CredentialService.NAME.matcher(credential).matches()) {
                judge.problem("credential", "must be the name of a registered credential (letters, digits, '.', '_' "
                        + "and '-', at most 100)");
            }
            if (keyEnv != null && credential != null) {
                judge.problem("credential", "name either the environment variable (apiKeyEnv) or the registered "
                        + "credential (credential) that holds the key, not both");
            }
            for (String secret : List.of("apiKey", "key", "token", "secret")) {
                if (judge.has(secret)) {
                    // the value is not repeated: the problem list is shown and may be logged
                    judge.problem(secret, "a key is never part of the spec; register it as a credential and name it in "
                            + "judge.credential, or name the worker's environment variable that holds it in "
                            + "judge.apiKeyEnv");
                }
            }
            endpoint = new JudgeJobSpec.Endpoint(url, model, keyEnv, credential);
        }
        Double rpm = json.number("requestsPerMinute", 0.001, 100_000);
        Long retries = json.integer("maxRetries", 0, 20);
        Long timeout = json.integer("timeoutSeconds", 1, 3600);
        Long parallel = json.integer("parallel", 1, JudgeJobSpec.MAX_PARALLEL);
        String name = json.requiredString("name", "the name of the judgments DATASET");
        return new JudgeJobSpec(benchmark, answers, baseline, questions, references, endpoint,
                rpm == null ? JudgeJobSpec.DEFAULT_RPM : rpm,
                retries == null ? JudgeJobSpec.DEFAULT_MAX_RETRIES : retries.intValue(),
                timeout == null ? JudgeJobSpec.DEFAULT_TIMEOUT_SECONDS : timeout.intValue(),
                parallel == null ? JudgeJobSpec.DEFAULT_PARALLEL : parallel.intValue(), name);
    }

    private static boolean isHttpUrl(String url) {
        try {
            URI u = new URI(url);
            return ("http".equals(u.getScheme()) || "https".equals(u.getScheme())) && u.getHost() != null
                    && u.getRawQuery() == null && u.getRawFragment() == null && u.getRawUserInfo() == null;
        } catch (java.net.URISyntaxException e) {
            return false;
        }
    }

    @Override
    public ValidJudge validate(JudgeJobSpec spec, JobInputs inputs, List<String> problems) {
        Judging.Benchmark benchmark = spec.benchmark() == null ? null : Judging.Benchmark.of(spec.benchmark());
        List<JobInput> all = new ArrayList<>();
        // AlpacaEval's outputs are a JSON list (the generation job's model_outputs.json) or JSON Lines: a DATASET of
        // one file of either format; the FastChat and arena-hard answer files are JSON Lines
        boolean anyFormat = benchmark == Judging.Benchmark.ALPACA_EVAL || benchmark == Judging.Benchmark.ALPACA_EVAL_WEIGHTED;
        JobInput answers = spec.answers() == null ? null : add(all, anyFormat
                ? inputs.datasetFile("answers", spec.answers(), problems)
                : inputs.jsonlDataset("answers", spec.answers(), problems));
        JobInput baseline = null;
        JobInput questions = null;
        JobInput references = null;
        if (benchmark != null) {
            if (benchmark.pairwise()) {
                if (spec.baseline() == null) {
                    problems.add("baseline: the baseline's answers are required for " + benchmark.id());
                } else {
                    baseline = add(all, anyFormat ? inputs.datasetFile("baseline", spec.baseline(), problems)
                            : inputs.jsonlDataset("baseline", spec.baseline(), problems));
                }
            } else if (spec.baseline() != null) {
                problems.add("baseline: " + benchmark.id() + " grades single answers; it takes no baseline");
            }
            if (benchmark.needsQuestions()) {
                if (spec.questions() == null) {
                    problems.add("questions: the questions file is required for " + benchmark.id());
                } else {
                    questions = add(all, inputs.jsonlDataset("questions", spec.questions(), problems));
                }
            } else if (spec.questions() != null) {
                problems.add("questions: " + benchmark.id() + " reads the instructions from the answers; it takes no questions");
            }
            if (spec.references() != null) {
                if (benchmark == Judging.Benchmark.MT_BENCH) {
                    references = add(all, inputs.jsonlDataset("references", spec.references(), problems));
                } else {
                    problems.add("references: only mt_bench takes reference answers");
                }
            }
        }
        if (spec.name() != null) {
            Map<String, String> names = new LinkedHashMap<>();
            names.put("the judgments", spec.name());
            names.put("the judgments kept if the endpoint fails", JudgeJobSpec.partialName(spec.name()));
            inputs.checkOutputNames("name", names, problems);
        }
        JobCredential credential = null;
        if (spec.judge() != null && spec.judge().credential() != null && spec.judge().apiKeyEnv() == null
                && CredentialService.NAME.matcher(spec.judge().credential()).matches()) {
            credential = inputs.credential("judge.credential", spec.judge().credential(), problems);
        }
        List<JudgeTask> tasks = null;
        if (problems.isEmpty() && benchmark != null && answers != null) {
            tasks = tasks(benchmark, answers, baseline, questions, references, problems);
        }
        if (!problems.isEmpty() || tasks == null || spec.judge() == null) {
            return null;
        }
        return new ValidJudge(benchmark, all, tasks, spec.judge().url(), spec.judge().model(), spec.judge().apiKeyEnv(),
                credential, spec.requestsPerMinute(), spec.maxRetries(), spec.timeoutSeconds(), spec.parallel(), spec.name());
    }

    private static JobInput add(List<JobInput> all, JobInput input) {
        if (input != null) {
            all.add(input);
        }
        return input;
    }

    /** Reads the files and builds every request; a problem in a file is reported under the field that names it. */
    private static List<JudgeTask> tasks(Judging.Benchmark benchmark, JobInput answers, JobInput baseline, JobInput questions,
                                         JobInput references, List<String> problems) {
        String field = "answers";
        try {
            switch (benchmark) {
                case MT_BENCH -> {
                    field = "questions";
                    var q = MtBench.readQuestions(questions.location());
                    field = "answers";
                    var a = MtBench.readAnswers(answers.location());
                    field = "references";
                    var r = references == null ? Map.<String, MtBench.Answer>of() : MtBench.readAnswers(references.location());
                    field = "answers";
                    return MtBench.tasks(q, a, r);
                }
                case ALPACA_EVAL, ALPACA_EVAL_WEIGHTED -> {
                    var a = AlpacaEval.readOutputs(answers.location());
                    field = "baseline";
                    var b = AlpacaEval.readOutputs(baseline.location());
                    field = "answers";
                    return AlpacaEval.tasks(a, b, benchmark == Judging.Benchmark.ALPACA_EVAL_WEIGHTED
                            ? AlpacaEval.Mode.WEIGHTED : AlpacaEval.Mode.TEXT);
                }
                case ARENA_HARD -> {
                    field = "questions";
                    var q = ArenaHard.readQuestions(questions.location());
                    field = "answers";
                    var a = ArenaHard.readAnswers(answers.location());
                    field = "baseline";
                    var b = ArenaHard.readAnswers(baseline.location());
                    field = "answers";
                    return ArenaHard.tasks(q, a, b);
                }
                default -> throw new IllegalStateException(benchmark.id());
            }
        } catch (RuntimeException e) {
            String message = e.getMessage() == null ? e.toString() : e.getMessage();
            // the library's cross-file messages name their file already ("answers: ...", "baseline: ...")
            boolean named = List.of("answers:", "baseline:", "questions:", "references:").stream().anyMatch(message::startsWith);
            problems.add(named ? message : field + ": " + message);
            return null;
        }
    }

    @Override
    public JudgeJobResult run(ValidJudge job, JobRun run) throws Exception {
        String key = null;
        if (job.apiKeyEnv() != null) {
            key = environment.apply(job.apiKeyEnv());
            if (key == null || key.isBlank()) {
                throw new IllegalStateException("judge.apiKeyEnv: the environment variable " + job.apiKeyEnv()
                        + " is not set where the job runs");
            }
        } else if (job.credential() != null) {
            try {
                key = job.credential().secret();
            } catch (CredentialService.CredentialException e) {
                // the message names the credential and the master keys, never the secret
                throw new IllegalStateException("judge.credential: " + e.getMessage());
            }
        }
        ChatClient client = new ChatClient(job.url(), job.model(), key, new ChatClient.Options(job.requestsPerMinute(),
                job.maxRetries(), INITIAL_BACKOFF, MAX_BACKOFF, Duration.ofSeconds(job.timeoutSeconds())), new Random());
        Path file = run.workDir().resolve(JUDGMENTS_FILE);
        run.progress(0, job.benchmark().id() + ": " + job.tasks().size() + " judge requests to " + job.model() + " at "
                + client.url());
        List<JsonNode> records;
        try {
            records = Judging.run(job.tasks(), client, file, run, job.parallel());
        } catch (JudgeEndpointException | IllegalArgumentException e) {
            throw failed(e, job, run, file);
        }
        Path staged = run.newStagingDir();
        Files.copy(file, staged.resolve(JUDGMENTS_FILE));
        List<Published> published = run.publishAll(List.of(new JobOutput(ArtifactKind.DATASET, "judgments", job.name(),
                staged)), job.inputs());
        JudgeJobResult result = result(job, published.get(0).reference(), records);
        run.metrics(null, 0, headline(result));
        return result;
    }

    /**
     * The endpoint failed for good (or answered what cannot be judged): publish what was judged, then fail with the
     * endpoint's status and message.
     */
    private static IllegalStateException failed(RuntimeException e, ValidJudge job, JobRun run, Path file)
            throws java.io.IOException {
        long kept;
        try (var lines = Files.lines(file)) {
            kept = lines.filter(l -> !l.isBlank()).count();
        }
        if (kept == 0) {
            return new IllegalStateException(e.getMessage() + "; nothing had been judged");
        }
        Path staged = run.newStagingDir();
        Files.copy(file, staged.resolve(JUDGMENTS_FILE));
        String partial = JudgeJobSpec.partialName(job.name());
        List<Published> published = run.publishAll(List.of(new JobOutput(ArtifactKind.DATASET, "partial", partial, staged)),
                job.inputs());
        return new IllegalStateException(e.getMessage() + "; the " + kept + " of " + job.tasks().size()
                + " judgments made before are kept in DATASET '" + partial + "' (" + published.get(0).reference() + ")", e);
    }

    static JudgeJobResult result(ValidJudge job, String judgments, List<JsonNode> records) {
        return result(job.benchmark(), job.model(), judgments, records);
    }

    /** The report of judgment records: what a judge job returns, and what a comparison tables from its DATASET. */
    static JudgeJobResult result(Judging.Benchmark benchmark, String judgeModel, String judgments, List<JsonNode> records) {
        Judging.Report report = Judging.report(benchmark, records);
        JudgeJobResult.MtBenchScores mt = null;
        JudgeJobResult.AlpacaEvalScores alpaca = null;
        JudgeJobResult.ArenaHardScores arena = null;
        int unparsed;
        if (report.mtBench() != null) {
            MtBench.Report r = report.mtBench();
            List<JudgeJobResult.CategoryScore> cats = new ArrayList<>();
            r.categories().forEach((c, m) -> cats.add(new JudgeJobResult.CategoryScore(c, m.score(), m.count())));
            mt = new JudgeJobResult.MtBenchScores(score(r.overall()), score(r.turn1()), score(r.turn2()), cats);
            unparsed = r.unparsed();
        } else if (report.alpacaEval() != null) {
            Judging.AlpacaReport r = report.alpacaEval();
            unparsed = r.withoutPreference();
            if (r.winRate() != null) {
                var w = r.winRate();
                var lc = r.lengthControlled();
                alpaca = new JudgeJobResult.AlpacaEvalScores(r.model(), r.baseline(), w.winRate(), w.standardError(),
                        w.discreteWinRate(), lc.winRate(), lc.theta(), lc.beta(), w.nWins(), w.nWinsBase(), w.nDraws(),
                        w.nTotal());
            }
        } else {
            Judging.ArenaReport r = report.arenaHard();
            unparsed = r.unparsed();
            if (r.score() != null) {
                var s = r.score();
                arena = new JudgeJobResult.ArenaHardScores(r.model(), r.baseline(), s.score() * 100, s.lower() * 100,
                        s.upper() * 100, s.rawScore() * 100, s.battles(), s.questions());
            }
        }
        return new JudgeJobResult(benchmark.id(), judgeModel, judgments, records.size(), unparsed, mt, alpaca, arena);
    }

    private static Double score(MtBench.Mean m) {
        return m == null ? null : m.score();
    }

    private static Map<String, Double> headline(JudgeJobResult r) {
        Map<String, Double> m = new LinkedHashMap<>();
        if (r.mtBench() != null && r.mtBench().overall() != null) {
            m.put("mt_bench.overall", r.mtBench().overall());
        }
        if (r.alpacaEval() != null) {
            m.put("alpaca_eval.win_rate", r.alpacaEval().winRate());
            m.put("alpaca_eval.length_controlled_win_rate", r.alpacaEval().lengthControlledWinRate());
        }
        if (r.arenaHard() != null) {
            m.put("arena_hard.score", r.arenaHard().score());
        }
        return m;
    }
}
