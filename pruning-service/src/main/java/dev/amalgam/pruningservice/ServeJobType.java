package dev.amalgam.pruningservice;

import dev.amalgam.job.SpecReader;
import dev.amalgam.modelengine.CheckpointLoader;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.LlamaModel;
import dev.amalgam.modelengine.serve.OpenAiCompletions;
import dev.amalgam.modelengine.serve.OpenAiHttpServer;
import dev.amalgam.modelengine.text.TextTokenizer;
import dev.amalgam.modelio.Json;
import dev.amalgam.platform.jobtype.JobInput;
import dev.amalgam.platform.jobtype.JobInputs;
import dev.amalgam.platform.jobtype.JobRun;
import dev.amalgam.platform.jobtype.JobType;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;
import tools.jackson.databind.node.ObjectNode;

/**
 * The serve job: while RUNNING it holds a MODEL loaded on its worker behind OpenAI's chat and completions API
 * ({@link OpenAiHttpServer}) and records where in the job's checkpoint ({@link #ENDPOINT_FIELD}, {@link #TOKEN_FIELD});
 * the gateway answers {@code /api/v1/servings/{jobId}/v1/...} by checking the caller's key and tenant and forwarding
 * there with the secret. Cancelling the job stops the server; so do {@code idleSeconds} without a request.
 * A serve job occupies one of its worker's job threads for as long as it runs.
 */
@Component
public final class ServeJobType implements JobType<ServeJobSpec, ServeJobType.ValidServe, ServeJobResult> {

    /** The type's name, which the gateway checks. */
    public static final String NAME = "serve";
    /** Checkpoint field: the server's base URL (without {@code /v1}). */
    public static final String ENDPOINT_FIELD = "endpoint";
    /** Checkpoint field: the secret the server expects in {@link OpenAiHttpServer#TOKEN_HEADER}. */
    public static final String TOKEN_FIELD = "token";

    private final EngineOptions engine;
    private final String bindAddress;
    private final String advertiseHost;
    private final Duration poll;

    @org.springframework.beans.factory.annotation.Autowired
    public ServeJobType(@Value("${amalgam.engine.device:cpu}") String device,
            @Value("${amalgam.serving.bind-address:127.0.0.1}") String bindAddress,
            @Value("${amalgam.serving.advertise-host:127.0.0.1}") String advertiseHost) {
        this(EngineOptions.parse(device), bindAddress, advertiseHost, Duration.ofSeconds(1));
    }

    public ServeJobType(EngineOptions engine, String bindAddress, String advertiseHost, Duration poll) {
        this.engine = engine;
        this.bindAddress = bindAddress;
        this.advertiseHost = advertiseHost;
        this.poll = poll;
    }

    /** A validated serve job. */
    public record ValidServe(JobInput model, String modelName, Duration idle, int maxTokens) implements JobType.Validated {
        @Override
        public List<JobInput> inputs() {
            return List.of(model);
        }
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int specVersion() {
        return 1;
    }

    @Override
    public String path() {
        return "/api/v1/servings";
    }

    @Override
    public String summary() {
        return "Serve a model with OpenAI's API at /api/v1/servings/{jobId}/v1 until cancelled or idle";
    }

    @Override
    public Class<ServeJobSpec> specClass() {
        return ServeJobSpec.class;
    }

    @Override
    public Class<ServeJobResult> resultClass() {
        return ServeJobResult.class;
    }

    @Override
    public ServeJobSpec read(SpecReader json) {
        String model = json.requiredString("model", "the MODEL artifact to serve");
        String modelName = json.string("modelName");
        int idle = json.integer("idleSeconds", 1, 86_400, ServeJobSpec.DEFAULT_IDLE_SECONDS);
        int maxTokens = json.integer("maxTokens", 1, 131_072, ServeJobSpec.DEFAULT_MAX_TOKENS);
        return new ServeJobSpec(model, modelName, idle, maxTokens);
    }

    @Override
    public ValidServe validate(ServeJobSpec spec, JobInputs inputs, List<String> problems) {
        JobInput model = inputs.model("model", spec.model(), problems);
        if (model != null && !java.nio.file.Files.isRegularFile(model.location().resolve("tokenizer.json"))) {
            problems.add("model: has no tokenizer.json");
        }
        if (!problems.isEmpty()) {
            return null;
        }
        return new ValidServe(model, spec.modelName() != null ? spec.modelName() : model.name(),
                Duration.ofSeconds(spec.idleSeconds()), spec.maxTokens());
    }

    @Override
    public ServeJobResult run(ValidServe job, JobRun run) throws Exception {
        run.progress(0, "loading " + job.model().name());
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        String token = HexFormat.of().formatHex(secret);
        try (TextTokenizer tokenizer = TextTokenizer.load(job.model().location());
                LlamaModel model = CheckpointLoader.load(job.model().location(), engine);
                OpenAiHttpServer server = new OpenAiHttpServer(
                        new OpenAiCompletions(model, tokenizer, job.modelName(), job.maxTokens(), Clock.systemUTC()),
                        bindAddress, 0, token)) {
            ObjectNode where = Json.object();
            where.put(ENDPOINT_FIELD, "http://" + advertiseHost + ":" + server.port());
            where.put(TOKEN_FIELD, token);
            run.saveCheckpoint(where);
            run.progress(0, "serving " + job.modelName() + " with OpenAI's API at /api/v1/servings/{this job's id}/v1");
            long reported = -1;
            while (true) {
                run.throwIfCancelled(); // cancel stops the server (closed on the way out)
                if (server.idleNanos() >= job.idle().toNanos()) {
                    run.log("no request for " + job.idle().toSeconds() + " s: stopping");
                    return new ServeJobResult(job.modelName(), server.served(), "idle");
                }
                if (server.served() != reported) {
                    reported = server.served();
                    run.metrics(null, reported, java.util.Map.of("requests", (double) reported));
                }
                Thread.sleep(poll.toMillis());
            }
        }
    }
}
