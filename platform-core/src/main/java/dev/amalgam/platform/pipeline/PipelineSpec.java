package dev.amalgam.platform.pipeline;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * A pipeline: named steps, each an ordinary job of a registered type, whose specs may refer to the outputs of
 * earlier steps with {@code ${steps.NAME.outputs.KIND}} ({@link StepReferences}). The steps form a DAG: a step
 * runs when every step it refers to has succeeded.
 *
 * @param steps in the order written; {@link #order()} gives an order in which each step follows its dependencies
 */
public record PipelineSpec(List<Step> steps) {

    public PipelineSpec {
        steps = List.copyOf(steps);
    }

    /**
     * One step.
     *
     * @param spec      the job spec as the step's job type reads it, references still unresolved
     * @param dependsOn the steps whose outputs the spec refers to
     */
    public record Step(String name, String type, JsonNode spec, Set<String> dependsOn) {
        public Step {
            dependsOn = Set.copyOf(dependsOn);
        }
    }

    /** The step called {@code name}, or null. */
    public Step step(String name) {
        return steps.stream().filter(s -> s.name().equals(name)).findFirst().orElse(null);
    }

    /** The steps in an order in which every step comes after the steps it depends on (written order among equals). */
    public List<Step> order() {
        List<Step> out = new ArrayList<>();
        Set<String> done = new java.util.HashSet<>();
        while (out.size() < steps.size()) {
            boolean progressed = false;
            for (Step s : steps) {
                if (!done.contains(s.name()) && done.containsAll(s.dependsOn())) {
                    out.add(s);
                    done.add(s.name());
                    progressed = true;
                }
            }
            if (!progressed) {
                throw new IllegalStateException("the steps have a cycle");
            }
        }
        return out;
    }

    /** The stored form: {@code {"steps": [{"name", "type", "spec"}]}}, read back by {@link PipelineSpecReader#stored}. */
    public ObjectNode toJson() {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        var array = root.putArray("steps");
        for (Step s : steps) {
            ObjectNode o = array.addObject();
            o.put("name", s.name());
            o.put("type", s.type());
            o.set("spec", s.spec());
        }
        return root;
    }

    /** Step name -> its index in {@link #steps()}, for problem pointers. */
    public Map<String, Integer> indexes() {
        Map<String, Integer> out = new LinkedHashMap<>();
        for (int i = 0; i < steps.size(); i++) {
            out.put(steps.get(i).name(), i);
        }
        return out;
    }
}
