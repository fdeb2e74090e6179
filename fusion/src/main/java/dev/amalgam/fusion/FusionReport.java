package dev.amalgam.fusion;

import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelio.Json;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The metrics log of a job ({@code metrics.jsonl} in the work directory, appended per step so it survives a
 * resume) and the final training report ({@code fusion_report.json}): spec, steps, final and per-step metrics.
 */
final class FusionReport {

    static final String FILE = "fusion_report.json";

    private final Path log;

    FusionReport(Path log) {
        this.log = log;
    }

    void log(String stage, long step, Map<String, Double> values) {
        ObjectNode line = Json.object();
        line.put("stage", stage);
        line.put("step", step);
        ObjectNode m = line.putObject("metrics");
        values.forEach(m::put);
        try (BufferedWriter w = Files.newBufferedWriter(log, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND)) {
            w.write(Json.toCompactString(line));
            w.write('\n');
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to " + log, e);
        }
    }

    Path write(Path outDir, FusionSpec spec, Map<String, Long> steps, Map<String, Double> finalMetrics,
            Path resumedFrom, long parameters, long trainable, EngineOptions options, double seconds, ObjectNode data) {
        ObjectNode r = Json.object();
        r.set("spec", spec.toJson());
        r.set("data", data); // what was read, what was left out and why, the tokenisation and step accounting used
        ObjectNode s = r.putObject("steps");
        steps.forEach(s::put);
        ObjectNode f = r.putObject("finalMetrics");
        finalMetrics.forEach(f::put);
        r.put("parameters", parameters);
        r.put("trainableParameters", trainable);
        r.put("device", options.device().toString());
        r.put("computeType", options.computeType().toString());
        r.put("numerics", FusionRunner.numerics(options)); // what bit-identical reruns need to share
        r.put("resumedFrom", resumedFrom == null ? null : resumedFrom.getFileName().toString());
        r.put("wallSeconds", seconds);
        ArrayNode history = r.putArray("history");
        history(steps.keySet().stream().toList()).forEach(history::add);
        Path file = outDir.resolve(FILE);
        Json.write(file, r);
        return file;
    }

    /** Logged steps in order, the last entry winning for a step logged twice (re-run after a resume). */
    private List<JsonNode> history(List<String> stages) {
        Map<String, JsonNode> byStep = new LinkedHashMap<>();
        if (Files.isRegularFile(log)) {
            try {
                for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
                    if (!line.isBlank()) {
                        JsonNode n = Json.MAPPER.readTree(line);
                        byStep.put(n.path("stage").asString() + "#" + n.path("step").asLong(), n);
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + log, e);
            }
        }
        return byStep.values().stream().sorted(java.util.Comparator
                .comparingInt((JsonNode n) -> stages.indexOf(n.path("stage").asString()))
                .thenComparingLong(n -> n.path("step").asLong())).toList();
    }
}
