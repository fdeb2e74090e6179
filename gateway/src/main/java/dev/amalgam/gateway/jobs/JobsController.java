package dev.amalgam.gateway.jobs;

import dev.amalgam.platform.artifact.ArtifactRepository;
import dev.amalgam.platform.auth.Caller;
import dev.amalgam.platform.error.ApiException;
import dev.amalgam.platform.job.JobEvent;
import dev.amalgam.platform.job.JobFilter;
import dev.amalgam.platform.job.JobService;
import dev.amalgam.platform.job.JobStatus;
import dev.amalgam.platform.web.JobView;
import dev.amalgam.platform.web.Page;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.util.List;
import java.util.UUID;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

/** /api/v1/jobs: list, read, cancel, and follow jobs of every type. */
@RestController
@RequestMapping("/api/v1/jobs")
@Tag(name = "jobs")
class JobsController {

    private final JobService jobs;
    private final ArtifactRepository artifacts;
    private final JobEventStreams streams;
    private final List<String> jobTypes;

    JobsController(JobService jobs, ArtifactRepository artifacts, JobEventStreams streams,
                   @org.springframework.beans.factory.annotation.Value("${amalgam.gateway.job-types:merge,prune,evaluate,compare,judge,generate,serve,fuse,represent}")
                   List<String> jobTypes) {
        // pipelines are the platform's own job type, whatever services run
        this.jobTypes = java.util.stream.Stream.concat(jobTypes.stream(),
                java.util.stream.Stream.of(dev.amalgam.platform.pipeline.PipelineRepository.TYPE)).distinct().toList();
        this.jobs = jobs;
        this.artifacts = artifacts;
        this.streams = streams;
    }

    @GetMapping
    @Operation(summary = "List the caller's jobs, newest first; name: a part of the job's name, any case")
    Page<JobView> list(Caller caller, @RequestParam(required = false) String type,
                       @RequestParam(required = false) String status, @RequestParam(required = false) String name,
                       @RequestParam(defaultValue = "0") int page, @RequestParam(defaultValue = "50") int size) {
        Page.check(page, size);
        JobFilter filter = new JobFilter(parseType(type), parseStatus(status), name);
        List<JobView> items = jobs.list(caller.tenantId(), filter, page, size).stream()
                .map(j -> JobView.of(j, artifacts.lineageOfJob(j.id()))).toList();
        return new Page<>(items, page, size, jobs.count(caller.tenantId(), filter));
    }

    @GetMapping("/{id}")
    @Operation(summary = "Get a job: status, progress, result or error, inputs and outputs")
    JobView get(Caller caller, @PathVariable UUID id) {
        return JobView.of(jobs.get(caller.tenantId(), id), artifacts.lineageOfJob(id));
    }

    @PostMapping("/{id}/cancel")
    @Operation(summary = "Cancel a job: at once when queued, cooperatively when running")
    JobView cancel(Caller caller, @PathVariable UUID id) {
        return JobView.of(jobs.cancel(caller.tenantId(), id), artifacts.lineageOfJob(id));
    }

    @GetMapping(value = "/{id}/events", produces = MediaType.APPLICATION_JSON_VALUE)
    @Operation(summary = "Events of a job (status, progress, metrics, logs) after a sequence number, as JSON")
    List<JobEvent> events(Caller caller, @PathVariable UUID id, @RequestParam(defaultValue = "0") long after,
                          @RequestParam(defaultValue = "500") int limit) {
        if (limit < 1 || limit > 5000) {
            throw ApiException.invalid(List.of("limit: must be between 1 and 5000"));
        }
        return jobs.events(caller.tenantId(), id, after, limit);
    }

    @GetMapping(value = "/{id}/events", produces = MediaType.TEXT_EVENT_STREAM_VALUE)
    @Operation(summary = "Follow a job's events as server-sent events until it ends (resume with Last-Event-ID)")
    SseEmitter stream(Caller caller, @PathVariable UUID id,
                      @RequestHeader(value = "Last-Event-ID", required = false) Long lastEventId,
                      @RequestParam(defaultValue = "0") long after) {
        jobs.get(caller.tenantId(), id);
        return streams.follow(caller.keyId(), caller.tenantId(), id, lastEventId != null ? lastEventId : after);
    }

    /** A type filter names a job type the platform knows, else 400 (an unknown one would match nothing silently). */
    private String parseType(String type) {
        if (type == null || type.isBlank()) {
            return null;
        }
        if (!jobTypes.contains(type)) {
            throw new dev.amalgam.platform.error.ApiException(org.springframework.http.HttpStatus.BAD_REQUEST,
                    dev.amalgam.platform.error.ProblemType.BAD_REQUEST, "type: not a job type; one of " + jobTypes,
                    List.of("type: one of " + jobTypes));
        }
        return type;
    }

    private static JobStatus parseStatus(String status) {
        if (status == null || status.isBlank()) {
            return null;
        }
        try {
            return JobStatus.valueOf(status.toUpperCase());
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid(List.of("status: one of " + List.of(JobStatus.values())));
        }
    }
}
