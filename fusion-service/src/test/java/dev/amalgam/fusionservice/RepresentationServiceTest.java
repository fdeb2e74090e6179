package dev.amalgam.fusionservice;

import static dev.amalgam.platform.testing.TestApps.ADMIN_KEY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.amalgam.fusion.fusechat.align.TopK;
import dev.amalgam.fusion.fusechat.repr.RepresentationFormat;
import dev.amalgam.fusion.fusechat.repr.RepresentationReader;
import dev.amalgam.fusion.fusechat.repr.SampleRepresentation;
import dev.amalgam.fusion.fusechat.repr.TokenizerVocabulary;
import dev.amalgam.modelengine.Architecture;
import dev.amalgam.modelengine.BlockMask;
import dev.amalgam.modelengine.CheckpointLoader;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.LlamaModel;
import dev.amalgam.modelengine.text.TextTokenizer;
import dev.amalgam.modelengine.tiny.TinyModels;
import dev.amalgam.modelengine.tiny.TinySizes;
import dev.amalgam.platform.artifact.Artifact;
import dev.amalgam.platform.artifact.ArtifactKind;
import dev.amalgam.platform.artifact.ArtifactRepository;
import dev.amalgam.platform.artifact.ArtifactService;
import dev.amalgam.platform.auth.ApiKeyService;
import dev.amalgam.platform.job.Job;
import dev.amalgam.platform.job.JobEvent;
import dev.amalgam.platform.job.JobService;
import dev.amalgam.platform.job.JobStatus;
import dev.amalgam.platform.testing.TestApps;
import dev.amalgam.platform.testing.TestDatabase;
import dev.amalgam.platform.testing.TestHttp;
import dev.amalgam.platform.testing.TestJobs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * POST /api/v1/representations end to end on the service: the engine's top-k and metric_ce of a tiny model on a chat
 * corpus (read back with the format's reader, against a plain forward sorted in Java), an import of log-probs
 * computed elsewhere, lineage, and every problem of bad specs.
 */
class RepresentationServiceTest {

    /** A template unlike the tiny models' own, so that the stored tokens tell whose template rendered them. */
    static final String PIVOT_TEMPLATE = "{% for m in messages %}[{{ m['role'] }}]\n{{ m['content'] }}{{ eos_token }}"
            + "{% endfor %}{% if add_generation_prompt %}[assistant]\n{% endif %}";

    @TempDir
    static Path dataDir;

    static ConfigurableApplicationContext service;
    static TestHttp api;
    static UUID tenant;
    static Path sourceDir;

    @BeforeAll
    static void start() throws Exception {
        service = TestApps.start(FusionServiceApplication.application(), TestDatabase.newDatabase(), dataDir, Map.of());
        api = new TestHttp(TestApps.baseUrl(service));
        Path imports = dataDir.resolve("import");
        sourceDir = TinyModels.write(Architecture.LLAMA, imports.resolve("source"), TinySizes.defaults(), 7);
        Path pivot = TinyModels.write(Architecture.QWEN2, imports.resolve("pivot"), TinySizes.defaults(), 8);
        Path cfg = pivot.resolve("tokenizer_config.json");
        ObjectNode tc = (ObjectNode) TestHttp.JSON.readTree(Files.readString(cfg));
        tc.put("chat_template", PIVOT_TEMPLATE);
        Files.writeString(cfg, TestHttp.JSON.writeValueAsString(tc));
        Path noTemplate = TinyModels.write(Architecture.LLAMA, imports.resolve("no-template"), TinySizes.defaults(), 9);
        Path ntc = noTemplate.resolve("tokenizer_config.json");
        ObjectNode n = (ObjectNode) TestHttp.JSON.readTree(Files.readString(ntc));
        n.remove("chat_template");
        Files.writeString(ntc, TestHttp.JSON.writeValueAsString(n));
        Files.writeString(imports.resolve("chats.jsonl"), String.join("\n",
                "{\"id\": \"a\", \"conversations\": [{\"from\": \"human\", \"value\": \"hi there\"}, "
                        + "{\"from\": \"gpt\", \"value\": \"hello!\"}]}",
                "{\"messages\": [{\"role\": \"user\", \"content\": \"2+2?\"}, {\"role\": \"assistant\", \"content\": \"4\"}, "
                        + "{\"role\": \"user\", \"content\": \"and 3+3?\"}, {\"role\": \"assistant\", \"content\": \"six\"}]}",
                "{\"id\": 3, \"conversations\": [{\"from\": \"human\", \"value\": \"only a question\"}]}",
                ""));
        Files.writeString(imports.resolve("bad-chats.jsonl"), String.join("\n",
                "{\"id\": \"ok\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}",
                "{\"id\": \"broken\", \"conversations\": [{\"from\": \"robot\", \"value\": \"beep\"}]}", ""));
        StringBuilder many = new StringBuilder();
        for (int i = 0; i < 4000; i++) {
            many.append("{\"id\": \"m").append(i).append("\", \"messages\": [{\"role\": \"user\", \"content\": \"count to ")
                    .append(i).append("\"}, {\"role\": \"assistant\", \"content\": \"1 2 3 ").append(i).append("\"}]}\n");
        }
        Files.writeString(imports.resolve("many-chats.jsonl"), many);
        Files.writeString(imports.resolve("logprobs.jsonl"), importLines(TokenizerVocabulary.read(sourceDir)));
        ArtifactService artifacts = service.getBean(ArtifactService.class);
        tenant = service.getBean(ApiKeyService.class).authenticate(ADMIN_KEY).orElseThrow().tenantId();
        artifacts.importFromRoot(tenant, ArtifactKind.MODEL, "source", "source");
        artifacts.importFromRoot(tenant, ArtifactKind.MODEL, "pivot", "pivot");
        artifacts.importFromRoot(tenant, ArtifactKind.MODEL, "no-template", "no-template");
        artifacts.importFromRoot(tenant, ArtifactKind.DATASET, "chats", "chats.jsonl");
        artifacts.importFromRoot(tenant, ArtifactKind.DATASET, "bad-chats", "bad-chats.jsonl");
        artifacts.importFromRoot(tenant, ArtifactKind.DATASET, "logprobs", "logprobs.jsonl");
        artifacts.importFromRoot(tenant, ArtifactKind.DATASET, "many-chats", "many-chats.jsonl");
    }

    @AfterAll
    static void stop() {
        if (service != null) {
            service.close();
        }
    }

    /**
     * Two samples in vLLM's prompt_logprobs order, by hand: "s1" of tokens a b c d, every token but the first
     * learned; "s2" by ids, only its last token learned.
     */
    static String importLines(TokenizerVocabulary vocab) {
        for (String t : List.of("a", "b", "c", "d", "x")) {
            assertThat(vocab.id(t)).as("the tiny tokenizer has the token " + t).isNotNegative();
        }
        int b = vocab.id("b");
        int c = vocab.id("c");
        return """
                {"id": "s1", "tokens": ["a", "b", "c", "d"], "prompt_logprobs": [null,
                  [["b", -0.5], ["x", -1.25], ["d", -2.0]], [["c", -0.125], [%d, -3.0]], [["d", -0.75], ["b", -0.875], ["a", -0.625]]]}
                {"id": "s2", "input_ids": [%d, %d, %d], "labels": [-100, -100, %d], "prompt_logprobs": [null,
                  [["a", -1.5], ["c", -0.25]], [["c", -2.5], ["b", -0.0625]]]}
                """.replace("\n  ", " ").formatted(vocab.id("x"), b, c, c, c);
    }

    @Test
    void engineJobStoresTheTopKOfAPlainForwardOverThePivotRenderedCorpus() throws Exception {
        var r = api.call("POST", "/api/v1/representations", ADMIN_KEY, """
                {"model": "source", "corpus": "chats", "chatTemplateFrom": "pivot", "topK": 4, "maxLength": 64,
                 "batchSize": 2, "device": "cpu", "name": "source-repr"}""");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        Job job = awaitFinal(UUID.fromString(TestHttp.JSON.readTree(r.body()).get("id").asString()));
        assertThat(job.status()).as(String.valueOf(job.error())).isEqualTo(JobStatus.SUCCEEDED);
        JsonNode result = job.result();
        assertThat(result.get("source").asString()).isEqualTo("engine");
        assertThat(result.get("samples").asLong()).isEqualTo(3);
        assertThat(result.get("topK").asInt()).isEqualTo(4);
        assertThat(result.get("unsupervisedSamples").asLong()).as("the third sample has no reply").isEqualTo(1);

        Artifact dataset = service.getBean(ArtifactService.class).get(tenant, UUID.fromString(result.get("dataset").asString()));
        assertThat(dataset.kind()).isEqualTo(ArtifactKind.DATASET);
        assertThat(dataset.name()).isEqualTo("source-repr");
        try (var files = Files.list(dataset.dir())) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder(RepresentationFormat.META, RepresentationFormat.INDEX, RepresentationFormat.TOPK);
        }
        JsonNode meta = TestHttp.JSON.readTree(Files.readString(dataset.dir().resolve(RepresentationFormat.META)));
        assertThat(meta.get("model").asString()).as("artifact names, not storage paths").isEqualTo("source");
        assertThat(meta.get("template_model").asString()).isEqualTo("pivot");
        assertThat(meta.get("max_length").asInt()).isEqualTo(64);

        List<SampleRepresentation> samples;
        try (RepresentationReader reader = RepresentationReader.open(dataset.dir())) {
            samples = reader.readAll();
        }
        assertThat(samples).extracting(SampleRepresentation::id).containsExactly("a", "1", "3");
        long positions = samples.stream().mapToLong(SampleRepresentation::length).sum();
        assertThat(result.get("positions").asLong()).isEqualTo(positions);
        int vocab = TokenizerVocabulary.read(sourceDir).size();
        assertThat(result.get("vocabSize").asInt()).isEqualTo(vocab);
        double ceSum = 0;
        int ceSamples = 0;
        try (TextTokenizer tokenizer = TextTokenizer.load(sourceDir);
                LlamaModel model = CheckpointLoader.load(sourceDir, EngineOptions.cpu())) {
            String eos = tokenizer.decode(new int[] {tokenizer.eosTokenId().orElseThrow()}, false);
            for (SampleRepresentation s : samples) {
                String text = tokenizer.decode(s.inputIds(), false);
                assertThat(text).as("the pivot's template with the source's own eos").startsWith("[user]\n").contains(eos);
                float[][] logits = plainForward(model, s.inputIds());
                int[] labels = s.labels();
                double nll = 0;
                int learned = 0;
                for (int t = 0; t < s.length(); t++) {
                    int[] expected = naiveTopIds(logits[t], 4, vocab);
                    TopK got = s.topK(t);
                    assertThat(got.ids()).as(s.id() + " position " + t).containsExactly(expected);
                    for (int j = 0; j < 4; j++) {
                        assertThat(got.logit(j)).isCloseTo(logits[t][expected[j]], within(1e-4f));
                    }
                    if (t + 1 < s.length() && labels[t + 1] != -100) {
                        nll += logSumExp(logits[t]) - logits[t][labels[t + 1]];
                        learned++;
                    }
                }
                if (learned == 0) {
                    assertThat(s.metricCe()).as(s.id()).isNaN();
                } else {
                    assertThat(s.metricCe()).as(s.id()).isCloseTo(nll / learned, within(1e-4));
                    ceSum += nll / learned;
                    ceSamples++;
                }
            }
        }
        assertThat(result.get("meanMetricCe").asDouble()).isCloseTo(ceSum / ceSamples, within(1e-4));

        assertThat(lineage(job.id())).containsEntry("source", "INPUT").containsEntry("pivot", "INPUT")
                .containsEntry("chats", "INPUT").containsEntry("source-repr", "OUTPUT");
        List<JobEvent> events = service.getBean(JobService.class).events(tenant, job.id(), 0, 1000);
        assertThat(events).anyMatch(e -> e.kind() == JobEvent.Kind.PROGRESS
                && e.payload().toString().contains("represented 3 of 3 samples"));
        assertThat(events).anyMatch(e -> e.kind() == JobEvent.Kind.METRIC && e.payload().has("meanMetricCe"));
    }

    @Test
    void importJobStoresTheLargestLogProbsOfEachNextTokenOnePositionEarlier() throws Exception {
        var r = api.call("POST", "/api/v1/representations", ADMIN_KEY, """
                {"model": "source", "import": "logprobs", "topK": 2, "name": "imported-repr"}""");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        Job job = awaitFinal(UUID.fromString(TestHttp.JSON.readTree(r.body()).get("id").asString()));
        assertThat(job.status()).as(String.valueOf(job.error())).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(job.result().get("source").asString()).isEqualTo("import");
        assertThat(job.result().get("samples").asLong()).isEqualTo(2);
        assertThat(job.result().get("positions").asLong()).isEqualTo(7);
        Artifact dataset = service.getBean(ArtifactService.class).get(tenant, UUID.fromString(job.result().get("dataset").asString()));
        TokenizerVocabulary v = TokenizerVocabulary.read(sourceDir);
        int a = v.id("a");
        int b = v.id("b");
        int c = v.id("c");
        int d = v.id("d");
        int x = v.id("x");
        List<SampleRepresentation> samples;
        try (RepresentationReader reader = RepresentationReader.open(dataset.dir())) {
            assertThat(reader.k()).isEqualTo(2);
            samples = reader.readAll();
        }
        SampleRepresentation s1 = samples.get(0);
        assertThat(s1.inputIds()).containsExactly(a, b, c, d);
        assertThat(s1.topK(0).ids()).containsExactly(b, x);
        assertThat(s1.topK(0).logits()).containsExactly(-0.5f, -1.25f);
        assertThat(s1.topK(1).ids()).containsExactly(c, x);
        assertThat(s1.topK(2).ids()).as("the two largest of three").containsExactly(a, d);
        assertThat(s1.topK(2).logits()).containsExactly(-0.625f, -0.75f);
        assertThat(s1.topK(3).size()).as("nothing predicts past the last token").isZero();
        assertThat(s1.metricCe()).isCloseTo((0.5 + 0.125 + 0.75) / 3, within(1e-6));
        SampleRepresentation s2 = samples.get(1);
        assertThat(s2.topK(1).ids()).containsExactly(b, c);
        assertThat(s2.metricCe()).as("only the last token is learned").isCloseTo(2.5, within(1e-6));
        JsonNode meta = TestHttp.JSON.readTree(Files.readString(dataset.dir().resolve(RepresentationFormat.META)));
        assertThat(meta.get("source").asString()).isEqualTo("import");
        assertThat(meta.get("model").asString()).isEqualTo("source");
        assertThat(lineage(job.id())).containsEntry("source", "INPUT").containsEntry("logprobs", "INPUT")
                .containsEntry("imported-repr", "OUTPUT");
    }

    @Test
    void aBadCorpusLineFailsTheJobNamingTheLineAndTheArtifactNotTheServersPath() throws Exception {
        var r = api.call("POST", "/api/v1/representations", ADMIN_KEY, """
                {"model": "source", "corpus": "bad-chats", "maxLength": 64, "device": "cpu", "name": "never"}""");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        Job job = awaitFinal(UUID.fromString(TestHttp.JSON.readTree(r.body()).get("id").asString()));
        assertThat(job.status()).isEqualTo(JobStatus.FAILED);
        assertThat(job.error()).contains("corpus: 'bad-chats' line 2").contains("from must be human, gpt or system")
                .doesNotContain(dataDir.toString());
        assertThat(service.getBean(ArtifactService.class).exists(tenant, "never")).as("nothing published").isFalse();
    }

    @Test
    void aCancelledJobStopsBetweenBatchesAndPublishesNothing() throws Exception {
        var r = api.call("POST", "/api/v1/representations", ADMIN_KEY, """
                {"model": "source", "corpus": "many-chats", "maxLength": 32, "batchSize": 1, "device": "cpu",
                 "name": "cancelled-repr"}""");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        UUID id = UUID.fromString(TestHttp.JSON.readTree(r.body()).get("id").asString());
        JobService jobs = service.getBean(JobService.class);
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (jobs.events(tenant, id, 0, 1000).stream().noneMatch(e -> e.kind() == JobEvent.Kind.PROGRESS
                && e.payload().toString().contains("represented"))) {
            assertThat(System.nanoTime()).as("the job reports its first batches").isLessThan(deadline);
            Thread.sleep(20);
        }
        jobs.cancel(tenant, id);
        Job job = awaitFinal(id);
        assertThat(job.status()).as(String.valueOf(job.error())).isEqualTo(JobStatus.CANCELLED);
        assertThat(jobs.events(tenant, id, 0, 100_000)).as("stopped well before the 4000th sample")
                .noneMatch(e -> e.payload().toString().contains("represented 4000 of 4000"));
        assertThat(service.getBean(ArtifactService.class).exists(tenant, "cancelled-repr")).isFalse();
    }

    @Test
    void badRepresentationSpecsListEveryProblem() throws Exception {
        assertThat(problems("""
                {"model": "chats", "corpus": "chats", "import": "logprobs", "topK": 0, "batchSize": 65, "colour": "red"}"""))
                .contains("exactly one of 'corpus'").contains("topK: must be an integer between 1 and 1024")
                .contains("batchSize: must be an integer between 1 and 64").contains("colour")
                .contains("is a DATASET, expected a MODEL").contains("name: the name of the representation DATASET");
        assertThat(problems("""
                {"model": "source", "import": "logprobs", "chatTemplateFrom": "pivot", "maxLength": 64, "batchSize": 2,
                 "device": "cpu", "name": "x"}"""))
                .contains("chatTemplateFrom: only used with 'corpus'").contains("maxLength: only used with 'corpus'")
                .contains("batchSize: only used with 'corpus'").contains("device: only used with 'corpus'");
        assertThat(problems("""
                {"model": "source", "corpus": "chats", "chatTemplateFrom": "no-template", "topK": 1024, "device": "tpu",
                 "name": "chats"}"""))
                .as("the default maxLength 2048").contains("maxLength: 2048 exceeds the model's max_position_embeddings 256")
                .contains("topK: 1024 exceeds the model's vocabulary size")
                .contains("chatTemplateFrom: the model has no chat template")
                .contains("device: must be auto, cpu, gpu or gpu:N")
                .contains("name: an artifact named 'chats' already exists");
        assertThat(problems("{\"model\": \"source\", \"name\": \"x\"}")).contains("exactly one of 'corpus'");
        assertThat(problems("{\"model\": \"source\", \"corpus\": \"missing\", \"name\": \"../x\"}"))
                .contains("corpus: no artifact 'missing'").contains("name: ");
        TestHttp.assertProblem(api.call("POST", "/api/v1/representations", null, "{}"), 401, "unauthorized");
    }

    /** The errors of a 422 answer to {@code body}. */
    static String problems(String body) throws Exception {
        return TestHttp.assertProblem(api.call("POST", "/api/v1/representations", ADMIN_KEY, body), 422, "validation-error")
                .get("errors").toString();
    }

    /** The job's lineage as artifact name -> role. */
    static Map<String, String> lineage(UUID jobId) {
        ArtifactRepository repository = service.getBean(ArtifactRepository.class);
        return repository.lineageOfJob(jobId).stream().collect(Collectors.toMap(
                l -> repository.find(l.artifactId()).orElseThrow().name(), ArtifactRepository.Lineage::role));
    }

    /** Plain reference: every id sorted by logit, descending, the lower id first on ties; the first k. */
    static int[] naiveTopIds(float[] row, int k, int vocab) {
        Integer[] order = new Integer[vocab];
        for (int i = 0; i < vocab; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> -row[i]).thenComparingInt(i -> i));
        return Arrays.stream(order, 0, k).mapToInt(Integer::intValue).toArray();
    }

    /** One sample alone through the model, unbatched: [T][V] logits. */
    static float[][] plainForward(LlamaModel m, int[] ids) {
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

    static double logSumExp(float[] row) {
        double max = Double.NEGATIVE_INFINITY;
        for (float z : row) {
            max = Math.max(max, z);
        }
        double sum = 0;
        for (float z : row) {
            sum += Math.exp(z - max);
        }
        return max + Math.log(sum);
    }

    static Job awaitFinal(UUID id) throws InterruptedException {
        return TestJobs.awaitFinal(service, tenant, id, Duration.ofSeconds(300));
    }
}
