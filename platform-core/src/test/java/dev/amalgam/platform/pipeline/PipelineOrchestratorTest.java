package dev.amalgam.platform.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.amalgam.platform.job.JobStatus;
import dev.amalgam.platform.pipeline.PipelineOrchestrator.Decision;
import dev.amalgam.platform.pipeline.PipelineOrchestrator.StepState;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

/** The decisions of a pipeline from the state of its steps: DAG order, failure, cancellation, a restart. */
class PipelineOrchestratorTest {

    static final JsonMapper JSON = JsonMapper.builder().build();

    /** a -> b, a -> c, (b, c) -> d: a diamond, written out of order. */
    static PipelineSpec diamond() {
        List<String> problems = new ArrayList<>();
        PipelineSpec spec = PipelineSpecReader.read(JSON.readTree("""
                {"steps": [
                  {"name": "d", "type": "merge", "spec": {"models": ["${steps.b.outputs.model}", "${steps.c.outputs.model}"]}},
                  {"name": "b", "type": "prune", "spec": {"model": "${steps.a.outputs.model}"}},
                  {"name": "a", "type": "merge", "spec": {"model": "base"}},
                  {"name": "c", "type": "evaluate", "spec": {"model": "${steps.a.outputs.model}"}}
                ]}"""), problems);
        assertThat(problems).isEmpty();
        return spec;
    }

    static StepState state(JobStatus status) {
        return new StepState(UUID.randomUUID(), status, status == JobStatus.RUNNING ? 0.5 : 0, status == JobStatus.FAILED ? "boom" : null);
    }

    @Test
    void submitsEachStepOnlyWhenAllItsDependenciesSucceeded() {
        PipelineSpec spec = diamond();
        Map<String, StepState> states = new HashMap<>();
        Decision first = PipelineOrchestrator.decide(spec, false, states);
        assertThat(first.submit()).containsExactly("a");
        assertThat(first.status()).isEqualTo(JobStatus.RUNNING);

        states.put("a", state(JobStatus.RUNNING));
        assertThat(PipelineOrchestrator.decide(spec, false, states).submit()).as("a is still running").isEmpty();

        states.put("a", state(JobStatus.SUCCEEDED));
        assertThat(PipelineOrchestrator.decide(spec, false, states).submit()).as("b and c in written order").containsExactly("b", "c");

        states.put("b", state(JobStatus.SUCCEEDED));
        states.put("c", state(JobStatus.RUNNING));
        Decision waiting = PipelineOrchestrator.decide(spec, false, states);
        assertThat(waiting.submit()).as("d waits for c as well").isEmpty();
        assertThat(waiting.progress()).isEqualTo((1 + 1 + 0.5) / 4);
        assertThat(waiting.progressMessage()).isEqualTo("2 of 4 steps done; now c");

        states.put("c", state(JobStatus.SUCCEEDED));
        assertThat(PipelineOrchestrator.decide(spec, false, states).submit()).containsExactly("d");

        states.put("d", state(JobStatus.SUCCEEDED));
        Decision done = PipelineOrchestrator.decide(spec, false, states);
        assertThat(done.status()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(done.submit()).isEmpty();
        assertThat(done.progress()).isEqualTo(1.0);
    }

    @Test
    void theFirstFailedStepFailsThePipelineAndCancelsEveryLiveStep() {
        PipelineSpec spec = diamond();
        Map<String, StepState> states = new LinkedHashMap<>();
        states.put("a", state(JobStatus.SUCCEEDED));
        states.put("b", state(JobStatus.FAILED));
        states.put("c", state(JobStatus.RUNNING));
        Decision d = PipelineOrchestrator.decide(spec, false, states);
        assertThat(d.status()).isEqualTo(JobStatus.FAILED);
        assertThat(d.cancel()).containsExactly("c");
        assertThat(d.submit()).as("d is never submitted").isEmpty();
        assertThat(d.error()).isEqualTo("step 'b' (job " + states.get("b").jobId() + ") failed: boom");
    }

    @Test
    void aCancellationRequestCancelsTheLiveStepsAndSubmitsNothing() {
        PipelineSpec spec = diamond();
        Map<String, StepState> states = new LinkedHashMap<>();
        states.put("a", state(JobStatus.SUCCEEDED));
        states.put("b", state(JobStatus.QUEUED));
        Decision d = PipelineOrchestrator.decide(spec, true, states);
        assertThat(d.status()).isEqualTo(JobStatus.CANCELLED);
        assertThat(d.cancel()).containsExactly("b");
        assertThat(d.submit()).as("c was ready but is not started").isEmpty();
    }

    @Test
    void aStepCancelledDirectlyCancelsThePipeline() {
        PipelineSpec spec = diamond();
        Map<String, StepState> states = new LinkedHashMap<>();
        states.put("a", state(JobStatus.SUCCEEDED));
        states.put("b", state(JobStatus.CANCELLED));
        states.put("c", state(JobStatus.RUNNING));
        Decision d = PipelineOrchestrator.decide(spec, false, states);
        assertThat(d.status()).isEqualTo(JobStatus.CANCELLED);
        assertThat(d.cancel()).containsExactly("c");
        assertThat(d.error()).contains("step 'b'").contains("was cancelled");
    }

    @Test
    void aStepWhoseJobExistsIsNeverSubmittedAgainAfterARestart() {
        PipelineSpec spec = diamond();
        // a crash after b was submitted but before the pipeline's row said so: the state read back holds b's job
        Map<String, StepState> states = new LinkedHashMap<>();
        states.put("a", state(JobStatus.SUCCEEDED));
        states.put("b", state(JobStatus.QUEUED));
        Decision again = PipelineOrchestrator.decide(spec, false, states);
        assertThat(again.submit()).containsExactly("c");
        // deciding twice on the same state decides the same
        assertThat(PipelineOrchestrator.decide(spec, false, states)).isEqualTo(again);
        // replaying every pass of a run, each with the state the previous decisions left, submits each step once
        Map<String, StepState> replay = new LinkedHashMap<>();
        List<String> submitted = new ArrayList<>();
        for (int pass = 0; pass < 10; pass++) {
            Decision d = PipelineOrchestrator.decide(spec, false, replay);
            submitted.addAll(d.submit());
            d.submit().forEach(s -> replay.put(s, state(JobStatus.QUEUED)));
            // whatever was queued succeeds before the next pass
            replay.replaceAll((k, v) -> v.status() == JobStatus.QUEUED ? state(JobStatus.SUCCEEDED) : v);
        }
        assertThat(submitted).containsExactly("a", "b", "c", "d");
        assertThat(PipelineOrchestrator.decide(spec, false, replay).status()).isEqualTo(JobStatus.SUCCEEDED);
    }
}
