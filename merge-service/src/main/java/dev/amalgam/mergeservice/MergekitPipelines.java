package dev.amalgam.mergeservice;

import dev.amalgam.merge.config.MergeConfigException;
import dev.amalgam.merge.config.MultiStageConfig;
import dev.amalgam.modelio.Json;
import dev.amalgam.platform.artifact.ArtifactKind;
import dev.amalgam.platform.pipeline.StepReferences;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import tools.jackson.databind.node.ObjectNode;

/**
 * mergekit's multi-stage YAML ({@link MultiStageConfig}) as a merge pipeline: one {@code merge} step per document,
 * named as the document, whose config names earlier stages by {@code ${steps.NAME.outputs.model}}. The unnamed final
 * document is the step {@code final} (or {@code final-2}, ... when a stage already has that name) and publishes
 * {@code output}; a named stage publishes {@code output-NAME} (mergekit writes it to {@code intermediate_dir/NAME}).
 */
public final class MergekitPipelines {

    private MergekitPipelines() {
    }

    /**
     * The pipeline spec of a multi-stage config.
     *
     * @param output the name of the final merge's MODEL, and the prefix of the stages' names
     * @param seed   the seed of every merge step, or null for the default
     * @throws MergeConfigException with every problem of every document
     */
    public static ObjectNode toPipeline(String yaml, String output, Long seed) {
        List<MultiStageConfig.Stage> stages = MultiStageConfig.parse(yaml, name -> StepReferences.of(name, ArtifactKind.MODEL));
        List<String> problems = new ArrayList<>();
        Set<String> names = new LinkedHashSet<>();
        stages.forEach(s -> names.add(s.name()));
        for (MultiStageConfig.Stage s : stages) {
            if (s.name() != null && !StepReferences.STEP_NAME.matcher(s.name()).matches()) {
                problems.add("document '" + s.name() + "': the name must be 1-64 letters, digits, '_' or '-', starting with a letter"
                        + " or digit, to name a pipeline step");
            }
        }
        if (!problems.isEmpty()) {
            throw new MergeConfigException(problems);
        }
        String finalName = "final";
        for (int i = 2; names.contains(finalName); i++) {
            finalName = "final-" + i;
        }
        ObjectNode pipeline = Json.object();
        var steps = pipeline.putArray("steps");
        for (MultiStageConfig.Stage s : stages) {
            ObjectNode step = steps.addObject();
            step.put("name", s.name() == null ? finalName : s.name());
            step.put("type", "merge");
            ObjectNode spec = step.putObject("spec");
            spec.set("config", s.config());
            spec.put("output", s.name() == null ? output : output + "-" + s.name());
            if (seed != null) {
                spec.put("seed", seed);
            }
        }
        return pipeline;
    }
}
