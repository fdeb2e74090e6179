package dev.amalgam.platform.pipeline;

import dev.amalgam.platform.job.JobStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * What a pipeline does next, decided from its spec and the state of its step jobs alone (no database, no clock), so
 * the same state always gives the same decision: after a restart the scheduler reads the state back and carries on
 * without submitting a step twice. The rules:
 * <ul>
 *   <li>the first step (in written order) that FAILED fails the pipeline; every live step is cancelled and nothing
 *       more is submitted;</li>
 *   <li>a step cancelled by someone else (its job was cancelled directly) cancels the pipeline the same way;</li>
 *   <li>a cancellation requested on the pipeline cancels every live step and the pipeline;</li>
 *   <li>when every step SUCCEEDED, so did the pipeline;</li>
 *   <li>otherwise each step not yet submitted whose dependencies all SUCCEEDED is submitted, and the pipeline is
 *       RUNNING until every step ended.</li>
 * </ul>
 */
public final class PipelineOrchestrator {

    private PipelineOrchestrator() {
    }

    /**
     * A step job as the registry holds it.
     *
     * @param progress 0..1 as the job reports it
     */
    public record StepState(UUID jobId, JobStatus status, double progress, String error) {
    }

    /**
     * The decision.
     *
     * @param status   the pipeline's status from now on
     * @param submit   steps to submit now, in written order
     * @param cancel   live steps to cancel now
     * @param error    why the pipeline failed or was cancelled, or null
     * @param progress mean of the steps' progress (a finished step counts 1)
     */
    public record Decision(JobStatus status, List<String> submit, List<String> cancel, String error, double progress,
                           String progressMessage) {
        public Decision {
            submit = List.copyOf(submit);
            cancel = List.copyOf(cancel);
        }
    }

    /**
     * @param cancelRequested whether a cancellation of the pipeline was requested
     * @param steps           the state of every submitted step, by name (absent: not submitted yet)
     */
    public static Decision decide(PipelineSpec spec, boolean cancelRequested, Map<String, StepState> steps) {
        List<String> live = new ArrayList<>();
        String failed = null;
        String cancelled = null;
        int succeeded = 0;
        double progress = 0;
        for (PipelineSpec.Step s : spec.steps()) {
            StepState state = steps.get(s.name());
            if (state == null) {
                continue;
            }
            switch (state.status()) {
                case QUEUED, RUNNING -> {
                    live.add(s.name());
                    progress += state.progress();
                }
                case SUCCEEDED -> {
                    succeeded++;
                    progress += 1;
                }
                case FAILED -> failed = failed == null ? s.name() : failed;
                case CANCELLED -> cancelled = cancelled == null ? s.name() : cancelled;
            }
        }
        int total = spec.steps().size();
        double fraction = progress / total;
        if (failed != null) {
            StepState f = steps.get(failed);
            String error = "step '" + failed + "' (job " + f.jobId() + ") failed" + (f.error() == null ? "" : ": " + f.error());
            return new Decision(JobStatus.FAILED, List.of(), live, error, fraction, "failed at step " + failed);
        }
        if (cancelled != null) {
            return new Decision(JobStatus.CANCELLED, List.of(), live, "step '" + cancelled + "' (job " + steps.get(cancelled).jobId()
                    + ") was cancelled", fraction, "cancelled at step " + cancelled);
        }
        if (cancelRequested) {
            return new Decision(JobStatus.CANCELLED, List.of(), live, null, fraction, "cancelled");
        }
        if (succeeded == total) {
            return new Decision(JobStatus.SUCCEEDED, List.of(), List.of(), null, 1.0, "Done");
        }
        List<String> submit = new ArrayList<>();
        for (PipelineSpec.Step s : spec.steps()) {
            boolean ready = !steps.containsKey(s.name()) && s.dependsOn().stream()
                    .allMatch(d -> steps.containsKey(d) && steps.get(d).status() == JobStatus.SUCCEEDED);
            if (ready) {
                submit.add(s.name());
            }
        }
        List<String> running = new ArrayList<>(live);
        running.addAll(submit);
        String message = succeeded + " of " + total + " steps done" + (running.isEmpty() ? "" : "; now " + String.join(", ", running));
        return new Decision(JobStatus.RUNNING, submit, List.of(), null, fraction, message);
    }
}
