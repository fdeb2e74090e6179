package dev.amalgam.platform.pipeline;

import static dev.amalgam.platform.testing.TestApps.ADMIN_KEY;
import static org.assertj.core.api.Assertions.assertThat;

import dev.amalgam.platform.artifact.Artifact;
import dev.amalgam.platform.artifact.ArtifactKind;
import dev.amalgam.platform.artifact.ArtifactRepository;
import dev.amalgam.platform.artifact.ArtifactService;
import dev.amalgam.platform.auth.ApiKeyService;
import dev.amalgam.platform.auth.Caller;
import dev.amalgam.platform.error.ApiException;
import dev.amalgam.platform.job.Job;
import dev.amalgam.platform.job.JobService;
import dev.amalgam.platform.job.JobStatus;
import dev.amalgam.platform.jobtype.JobType;
import dev.amalgam.platform.jobtype.TenantInputs;
import dev.amalgam.platform.pipeline.lines.LinesApplication;
import dev.amalgam.platform.testing.TestApps;
import dev.amalgam.platform.testing.TestDatabase;
import dev.amalgam.platform.testing.TestHttp;
import dev.amalgam.platform.testing.TestJobs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

/**
 * The scheduler on a real registry with a test job type that chains ({@code lines}: datasets in, a dataset out):
 * DAG order and content, the first failure cancelling the rest, cancellation, a restart of the service in the
 * middle, and two schedulers racing on one pipeline, without a step ever submitted twice.
 */
class PipelineSchedulerTest {

    @TempDir
    static Path dir;

    static TestDatabase.Db db;
    static ConfigurableApplicationContext service;
    static Caller caller;

    @BeforeAll
    static void start() throws Exception {
        Files.createDirectories(dir.resolve("import"));
        Files.writeString(dir.resolve("import/texts.jsonl"), "{\"text\": \"x\"}\n{\"text\": \"y\"}\n");
        db = TestDatabase.newDatabase();
        service = startService();
        UUID tenant = service.getBean(ApiKeyService.class).authenticate(ADMIN_KEY).orElseThrow().tenantId();
        caller = new Caller(tenant, "t", UUID.randomUUID(), true);
        service.getBean(ArtifactService.class).importFromRoot(tenant, ArtifactKind.DATASET, "texts", "texts.jsonl");
        service.getBean(ArtifactService.class).importFromRoot(tenant, ArtifactKind.DATASET, "texts2", "texts.jsonl");
    }

    static ConfigurableApplicationContext startService() {
        return TestApps.start(new SpringApplication(LinesApplication.class), db, dir, Map.of("amalgam.pipelines.interval", "100ms",
                // steps of one pipeline run side by side
                "amalgam.worker.concurrency", "2"));
    }

    @AfterAll
    static void stop() {
        if (service != null) {
            service.close();
        }
    }

    static String step(String name, String tag, String outName, String... datasets) {
        return stepWith(name, tag, outName, "", datasets);
    }

    static String stepWith(String name, String tag, String outName, String extra, String... datasets) {
        return """
                {"name": "%s", "type": "lines", "spec": {"datasets": [%s], "tag": "%s", "name": "%s"%s}}"""
                .formatted(name, String.join(", ", java.util.Arrays.stream(datasets).map(d -> "\"" + d + "\"").toList()), tag, outName, extra);
    }

    static UUID submit(String... steps) {
        JsonNode body = TestHttp.JSON.readTree("{\"steps\": [" + String.join(",", steps) + "]}");
        return submissions().submit(caller, body, null, checker()).job().id();
    }

    static PipelineSubmissions submissions() {
        return service.getBean(PipelineSubmissions.class);
    }

    @SuppressWarnings("unchecked")
    static PipelineSubmissions.Checker checker() {
        List<JobType<?, ?, ?>> types = List.copyOf((java.util.Collection<JobType<?, ?, ?>>) (java.util.Collection<?>)
                service.getBeansOfType(JobType.class).values());
        return PipelineSubmissions.local(new StepChecks(types), new TenantInputs(service.getBean(ArtifactService.class), caller.tenantId()));
    }

    static Job awaitFinal(UUID id) throws InterruptedException {
        return TestJobs.awaitFinal(service, caller.tenantId(), id, Duration.ofSeconds(60));
    }

    static Job stepJob(UUID pipeline, String step) {
        return service.getBean(JobService.class).list(caller.tenantId(), new dev.amalgam.platform.job.JobFilter(null, null), 0, 500)
                .stream().filter(j -> PipelineRepository.stepKey(pipeline, step).equals(j.idempotencyKey())).findFirst().orElse(null);
    }

    static long stepJobs(UUID pipeline) {
        return service.getBean(JdbcClient.class).sql("select count(*) from jobs where idempotency_key like :k")
                .param("k", "pipeline:" + pipeline + ":%").query(Long.class).single();
    }

    static String content(String artifactName) throws Exception {
        Artifact a = service.getBean(ArtifactRepository.class).findReadyByName(caller.tenantId(), artifactName).orElseThrow();
        return Files.readString(a.singleFile()).replace("\"", "").replace("{text: ", "").replace("}", "").replace("\n", " ").trim();
    }

    @Test
    void stepsRunInDagOrderEachReadingTheOutputsItNames() throws Exception {
        UUID id = submit(
                step("c", "c", "s1-c", "${steps.b.outputs.dataset}", "${steps.a.outputs.dataset}"),
                step("a", "a", "s1-a", "texts"),
                step("b", "b", "s1-b", "${steps.a.outputs.dataset}"));
        Job end = awaitFinal(id);
        assertThat(end.status()).as(end.error()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(content("s1-a")).isEqualTo("a:x a:y");
        assertThat(content("s1-b")).isEqualTo("b:a:x b:a:y");
        assertThat(content("s1-c")).isEqualTo("c:b:a:x c:b:a:y c:a:x c:a:y");
        Job a = stepJob(id, "a");
        Job b = stepJob(id, "b");
        Job c = stepJob(id, "c");
        assertThat(b.startedAt()).isAfterOrEqualTo(a.finishedAt());
        assertThat(c.startedAt()).isAfterOrEqualTo(b.finishedAt());
        assertThat(stepJobs(id)).isEqualTo(3);
        // the step's stored spec names the artifact it resolved to, as any submission does
        Artifact aOut = service.getBean(ArtifactRepository.class).findReadyByName(caller.tenantId(), "s1-a").orElseThrow();
        assertThat(b.spec().path("datasets").get(0).asString()).isEqualTo(aOut.id().toString());
        // lineage: each step's inputs; the pipeline's own: texts in, the three datasets out
        var lineage = service.getBean(ArtifactRepository.class);
        assertThat(lineage.lineageOfJob(b.id())).extracting(ArtifactRepository.Lineage::artifactId).contains(aOut.id());
        var pipelineLineage = lineage.lineageOfJob(id);
        assertThat(pipelineLineage.stream().filter(l -> l.role().equals("OUTPUT"))).hasSize(3);
        assertThat(pipelineLineage.stream().filter(l -> l.role().equals("INPUT"))).singleElement()
                .extracting(ArtifactRepository.Lineage::artifactId)
                .isEqualTo(lineage.findReadyByName(caller.tenantId(), "texts").orElseThrow().id());
        assertThat(end.result().path("steps").path("c").path("outputs").get(0).path("name").asString()).isEqualTo("s1-c");
    }

    @Test
    void theFirstFailedStepFailsThePipelineCancelsTheOthersAndStartsNoMore() throws Exception {
        UUID id = submit(
                step("a", "a", "s2-a", "texts"),
                stepWith("bad", "b", "s2-bad", ", \"fail\": true, \"maxAttempts\": 1", "${steps.a.outputs.dataset}"),
                step("after", "c", "s2-after", "${steps.bad.outputs.dataset}"),
                stepWith("slow", "s", "s2-slow", ", \"pauseMs\": 1000", "texts", "texts", "texts", "texts", "texts"));
        Job end = awaitFinal(id);
        assertThat(end.status()).isEqualTo(JobStatus.FAILED);
        Job bad = stepJob(id, "bad");
        assertThat(end.error()).isEqualTo("step 'bad' (job " + bad.id() + ") failed: " + bad.error());
        assertThat(stepJob(id, "after")).as("never submitted").isNull();
        assertThat(awaitFinal(stepJob(id, "slow").id()).status()).isEqualTo(JobStatus.CANCELLED);
        assertThat(service.getBean(ArtifactRepository.class).findReadyByName(caller.tenantId(), "s2-slow")).isEmpty();
    }

    @Test
    void aCancelledPipelineCancelsItsRunningStep() throws Exception {
        UUID id = submit(stepWith("slow", "s", "s3-slow", ", \"pauseMs\": 300", "texts", "texts", "texts", "texts", "texts"),
                step("next", "n", "s3-next", "${steps.slow.outputs.dataset}", "texts2"));
        while (stepJob(id, "slow") == null || stepJob(id, "slow").status() != JobStatus.RUNNING) {
            Thread.sleep(20);
        }
        // what a later step reads is the pipeline's input from the start: it cannot be deleted while the pipeline lives
        UUID texts = service.getBean(ArtifactRepository.class).findReadyByName(caller.tenantId(), "texts2").orElseThrow().id();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> service.getBean(ArtifactService.class).delete(caller.tenantId(), texts))
                .isInstanceOf(ApiException.class).hasMessageContaining(id.toString());
        service.getBean(JobService.class).cancel(caller.tenantId(), id);
        assertThat(awaitFinal(id).status()).isEqualTo(JobStatus.CANCELLED);
        assertThat(awaitFinal(stepJob(id, "slow").id()).status()).isEqualTo(JobStatus.CANCELLED);
        Thread.sleep(500);
        assertThat(stepJob(id, "next")).isNull();
    }

    @Test
    void everyProblemIsReportedAtOnceWithTheStepItBelongsTo() {
        var e = org.assertj.core.api.Assertions.catchThrowableOfType(ApiException.class, () -> submit(
                step("a", "a", "texts", "nope"),
                "{\"name\": \"b\", \"type\": \"lines\", \"spec\": {\"datasets\": [\"${steps.a.outputs.model}\"], \"colour\": 1}}",
                "{\"name\": \"c\", \"type\": \"paint\", \"spec\": {}}"));
        assertThat(e.errors()).containsExactly(
                "steps[2].type: no job type 'paint' (types: lines)",
                "steps[0].spec.datasets[0]: no artifact 'nope'",
                "steps[0].spec.name: an artifact named 'texts' already exists",
                "steps[1].spec.tag: the tag is required",
                "steps[1].spec.name: the name of the DATASET is required",
                "steps[1].spec.colour: unknown field (known: priority, maxAttempts, datasets, tag, name, fail, pauseMs)",
                "steps[1].spec.datasets[0]: ${steps.a.outputs.model} is step 'a''s model output; a dataset is needed here");
    }

    @Test
    void theCheckEndpointAnswersForTheServicesTypes() throws Exception {
        TestHttp api = new TestHttp(TestApps.baseUrl(service));
        var r = api.call("POST", PipelineCheckEndpoint.PATH, ADMIN_KEY,
                "{\"steps\": [" + step("a", "a", "texts", "nope") + ", {\"name\": \"x\", \"type\": \"other\", \"spec\": {}}]}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode answer = TestHttp.JSON.readTree(r.body());
        assertThat(answer.path("types").toString()).isEqualTo("[\"lines\"]");
        assertThat(answer.path("problems").toString()).contains("steps[0].spec.datasets[0]: no artifact 'nope'");
        assertThat(answer.path("outputNames").path("a").toString()).isEqualTo("[\"texts\"]");
    }

    @Test
    void aPipelineInterruptedByARestartCompletesWithEachStepSubmittedOnce() throws Exception {
        UUID id = submit(stepWith("a", "a", "s4-a", ", \"pauseMs\": 200", "texts", "texts"),
                step("b", "b", "s4-b", "${steps.a.outputs.dataset}"));
        while (stepJob(id, "a") == null || stepJob(id, "a").status() != JobStatus.RUNNING) {
            Thread.sleep(20);
        }
        service.close();
        service = startService();
        Job end = awaitFinal(id);
        assertThat(end.status()).as(end.error()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(stepJobs(id)).isEqualTo(2);
        assertThat(content("s4-b")).isEqualTo("b:a:x b:a:y b:a:x b:a:y");
    }

    @Test
    void schedulersRacingOnOnePipelineSubmitEachStepOnce() throws Exception {
        UUID id = submit(step("a", "a", "s5-a", "texts"), step("b", "b", "s5-b", "texts"),
                step("c", "c", "s5-c", "${steps.a.outputs.dataset}", "${steps.b.outputs.dataset}"));
        // more schedulers on the same registry, as several services would be, passing as fast as they can
        List<PipelineScheduler> extra = List.of(newScheduler(), newScheduler(), newScheduler());
        List<Thread> threads = extra.stream().map(s -> new Thread(() -> {
            for (int i = 0; i < 200 && !service.getBean(JobService.class).get(caller.tenantId(), id).status().isFinal(); i++) {
                s.tick();
            }
        })).toList();
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            t.join();
        }
        assertThat(awaitFinal(id).status()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(stepJobs(id)).isEqualTo(3);
    }

    @SuppressWarnings("unchecked")
    static PipelineScheduler newScheduler() {
        List<JobType<?, ?, ?>> types = List.copyOf((java.util.Collection<JobType<?, ?, ?>>) (java.util.Collection<?>)
                service.getBeansOfType(JobType.class).values());
        return new PipelineScheduler(service.getBean(PipelineRepository.class), service.getBean(dev.amalgam.platform.job.JobRepository.class),
                service.getBean(ArtifactService.class), service.getBean(org.springframework.transaction.support.TransactionTemplate.class),
                service.getBean(tools.jackson.databind.json.JsonMapper.class), types, java.time.Duration.ofMillis(10));
    }
}
