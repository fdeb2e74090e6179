package dev.amalgam.platform.pipeline;

import dev.amalgam.job.SpecReader;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * Reads a pipeline spec, {@code {"steps": [{"name", "type", "spec"}, ...]}}, and checks its structure: step names
 * unique and well formed, every reference naming another step that exists, no cycle. Each problem names the step
 * ({@code steps[2].spec.model: ...}). Whether a type exists and whether each step's own spec is valid are checked
 * by the job types ({@link StepChecks}).
 */
public final class PipelineSpecReader {

    /** At most this many steps: a pipeline is a recipe, not a batch queue. */
    public static final int MAX_STEPS = 64;

    private PipelineSpecReader() {
    }

    /**
     * Reads {@code body}; every problem goes to {@code problems}. Returns the spec, or null when its structure is
     * broken (the problems say how).
     */
    public static PipelineSpec read(JsonNode body, List<String> problems) {
        SpecReader r = SpecReader.of(body);
        PipelineSpec spec = read(r);
        r.finish();
        problems.addAll(r.problems());
        return problems.isEmpty() ? spec : null;
    }

    /** Reads the steps through {@code r} (its other fields are the caller's); null when a step could not be read. */
    public static PipelineSpec read(SpecReader r) {
        List<SpecReader> steps = r.objects("steps");
        if (steps == null) {
            if (!r.has("steps")) {
                r.problem("steps", "a list of steps is required");
            }
            return null;
        }
        if (steps.isEmpty() || steps.size() > MAX_STEPS) {
            r.problem("steps", "must hold 1 to " + MAX_STEPS + " steps, got " + steps.size());
            return null;
        }
        int before = r.problems().size();
        List<PipelineSpec.Step> read = new ArrayList<>();
        Map<String, Integer> names = new HashMap<>();
        List<Set<StepReferences.Reference>> references = new ArrayList<>();
        for (int i = 0; i < steps.size(); i++) {
            SpecReader s = steps.get(i);
            String name = s.requiredString("name", "the step's name");
            if (name != null && !StepReferences.STEP_NAME.matcher(name).matches()) {
                s.problem("name", "must be 1-64 letters, digits, '_' or '-', starting with a letter or digit, got '" + name + "'");
                name = null;
            } else if (name != null && names.containsKey(name)) {
                s.problem("name", "'" + name + "' is already the name of steps[" + names.get(name) + "]");
                name = null;
            } else if (name != null) {
                names.put(name, i);
            }
            String type = s.requiredString("type", "the step's job type (merge, prune, evaluate, fuse, ...)");
            JsonNode spec = s.raw("spec");
            if (spec == null || !spec.isObject()) {
                s.problem("spec", spec == null ? "the step's job spec is required" : "must be an object (the job spec of the step's type)");
                spec = null;
            }
            references.add(spec == null ? Set.of() : StepReferences.find(spec, s.path("spec"), r.problems()));
            read.add(new PipelineSpec.Step(name, type, spec, Set.of()));
        }
        // references name existing other steps
        List<PipelineSpec.Step> linked = new ArrayList<>();
        for (int i = 0; i < read.size(); i++) {
            PipelineSpec.Step step = read.get(i);
            Set<String> deps = new LinkedHashSet<>();
            for (StepReferences.Reference ref : references.get(i)) {
                if (ref.step().equals(step.name())) {
                    r.problems().add("steps[" + i + "].spec: " + ref.text() + " refers to the step itself");
                } else if (!names.containsKey(ref.step())) {
                    r.problems().add("steps[" + i + "].spec: " + ref.text() + " refers to no step (steps: "
                            + String.join(", ", names.keySet().stream().sorted().toList()) + ")");
                } else {
                    deps.add(ref.step());
                }
            }
            linked.add(new PipelineSpec.Step(step.name(), step.type(), step.spec(), deps));
        }
        if (r.problems().size() > before) {
            return null;
        }
        List<String> cycle = cycle(linked);
        if (!cycle.isEmpty()) {
            r.problems().add("steps[" + names.get(cycle.get(0)) + "]: the steps refer to each other in a cycle: "
                    + String.join(" -> ", cycle));
            return null;
        }
        return new PipelineSpec(linked);
    }

    /** Reads the stored form ({@link PipelineSpec#toJson}) of a pipeline that validated at submission. */
    public static PipelineSpec stored(JsonNode json) {
        List<String> problems = new ArrayList<>();
        SpecReader r = SpecReader.of(json);
        r.allow("artifacts", "priority", "maxAttempts");
        PipelineSpec spec = read(r);
        if (spec == null || !problems.isEmpty() || !r.problems().isEmpty()) {
            throw new IllegalStateException("The stored pipeline no longer reads: " + r.problems());
        }
        return spec;
    }

    /** One cycle as step names (first name repeated at the end), or empty. */
    static List<String> cycle(List<PipelineSpec.Step> steps) {
        Map<String, PipelineSpec.Step> byName = new HashMap<>();
        steps.forEach(s -> byName.put(s.name(), s));
        Set<String> done = new HashSet<>();
        for (PipelineSpec.Step s : steps) {
            List<String> path = new ArrayList<>();
            List<String> found = visit(s.name(), byName, done, path, new HashSet<>());
            if (!found.isEmpty()) {
                return found;
            }
        }
        return List.of();
    }

    private static List<String> visit(String name, Map<String, PipelineSpec.Step> byName, Set<String> done, List<String> path,
                                      Set<String> onPath) {
        if (done.contains(name)) {
            return List.of();
        }
        if (onPath.contains(name)) {
            List<String> cycle = new ArrayList<>(path.subList(path.indexOf(name), path.size()));
            cycle.add(name);
            return cycle;
        }
        onPath.add(name);
        path.add(name);
        for (String dep : byName.get(name).dependsOn()) {
            List<String> found = visit(dep, byName, done, path, onPath);
            if (!found.isEmpty()) {
                return found;
            }
        }
        path.remove(path.size() - 1);
        onPath.remove(name);
        done.add(name);
        return List.of();
    }
}
