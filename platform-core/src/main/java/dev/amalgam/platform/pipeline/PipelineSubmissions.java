package dev.amalgam.platform.pipeline;

import dev.amalgam.platform.auth.Caller;
import dev.amalgam.platform.error.ApiException;
import dev.amalgam.platform.job.JobService;
import dev.amalgam.platform.job.NewJob;
import dev.amalgam.platform.web.SpecChecks;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * Submission of a pipeline: its structure ({@link PipelineSpecReader}), every step's type and own spec (by the
 * services that serve them, {@link Checker}), clashes between the names the steps publish, all answered at once
 * as one 422 whose problems name the step; then the pipeline is stored as a QUEUED job of type
 * {@value PipelineRepository#TYPE} and the {@link PipelineScheduler}s take it from there.
 */
public class PipelineSubmissions {

    /** Checks the steps of a pipeline with the job types that serve them. */
    public interface Checker {

        /**
         * @return the job types that could be asked, every problem of the steps of those types, and the artifact names
         *         each such step will publish
         */
        Checked check(PipelineSpec spec);
    }

    /**
     * What a {@link Checker} found.
     *
     * @param inputs the artifacts the steps' literal references resolved to
     */
    public record Checked(Set<String> types, List<String> problems, Map<String, List<String>> outputNames,
                          List<java.util.UUID> inputs) {
    }

    private final JobService jobs;

    public PipelineSubmissions(JobService jobs) {
        this.jobs = jobs;
    }

    /**
     * Validates and stores a pipeline; returns the job and whether it was an idempotent replay.
     *
     * @throws ApiException 422 with every problem
     */
    public JobService.Submission submit(Caller caller, JsonNode body, String idempotencyKey, Checker checker) {
        if (body == null || !body.isObject()) {
            throw ApiException.invalid(List.of("body: a JSON object is required"));
        }
        SpecChecks.requireStorableText(body);
        SpecChecks.checkIdempotencyKey(idempotencyKey);
        String fingerprint = fingerprint(body);
        var replayed = jobs.replay(caller.tenantId(), PipelineRepository.TYPE, idempotencyKey, fingerprint);
        if (replayed.isPresent()) {
            return new JobService.Submission(replayed.get(), true);
        }
        List<String> problems = new ArrayList<>();
        PipelineSpec spec = PipelineSpecReader.read(body, problems);
        if (spec == null) {
            throw ApiException.invalid(problems);
        }
        Checked checked = checker.check(spec);
        problems.addAll(problems(spec, checked));
        if (!problems.isEmpty()) {
            throw ApiException.invalid(problems);
        }
        // the artifacts the steps read from outside the pipeline are its inputs from the start: lineage, and no
        // deletion while it lives (a later step would find them gone)
        return jobs.submit(new NewJob(caller.tenantId(), PipelineRepository.TYPE, 1, spec.toJson(), 0, 1, idempotencyKey,
                checked.inputs(), fingerprint));
    }

    /** The problems of the steps' types and specs, and of names published by two steps. */
    public static List<String> check(PipelineSpec spec, Checker checker) {
        return problems(spec, checker.check(spec));
    }

    private static List<String> problems(PipelineSpec spec, Checked checked) {
        List<String> problems = new ArrayList<>();
        for (int i = 0; i < spec.steps().size(); i++) {
            String type = spec.steps().get(i).type();
            if (!checked.types().contains(type)) {
                problems.add("steps[" + i + "].type: no job type '" + type + "' (types: "
                        + String.join(", ", checked.types().stream().sorted().toList()) + ")");
            }
        }
        problems.addAll(checked.problems());
        Map<String, Integer> publishedBy = new LinkedHashMap<>();
        Map<String, Integer> index = spec.indexes();
        checked.outputNames().forEach((step, names) -> {
            for (String name : names) {
                Integer other = publishedBy.putIfAbsent(name, index.get(step));
                if (other != null && !other.equals(index.get(step))) {
                    problems.add("steps[" + index.get(step) + "].spec: publishes an artifact named '" + name
                            + "', as steps[" + other + "] does");
                }
            }
        });
        return problems;
    }

    /** Steps checked in this process by the job types given (what a service with those types answers). */
    public static Checker local(StepChecks checks, dev.amalgam.platform.jobtype.JobInputs inputs) {
        return spec -> {
            StepChecks.Result r = checks.check(spec, inputs);
            return new Checked(Set.copyOf(checks.types()), r.problems(), r.outputNames(), r.inputs());
        };
    }

    static String fingerprint(JsonNode request) {
        try {
            byte[] text = request.toString().getBytes(StandardCharsets.UTF_8);
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
