package dev.amalgam.mergeservice;

import dev.amalgam.merge.MergeOptions;
import dev.amalgam.merge.MergeResult;
import dev.amalgam.merge.MergeRunner;
import dev.amalgam.merge.config.MergeConfig;
import dev.amalgam.platform.artifact.Artifact;
import dev.amalgam.platform.artifact.ArtifactKind;
import dev.amalgam.platform.worker.JobContext;
import dev.amalgam.platform.worker.JobHandler;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;

/**
 * Runs a merge job: the merge library on the spec's artifacts, into a staging directory that is
 * published as a MODEL artifact with lineage to the merged models. Progress is reported per tensor
 * (at most every percent); cancellation stops the merge between tensors.
 */
@Component
class MergeJobHandler implements JobHandler {

    @Override
    public String type() {
        return MergeJobSpec.TYPE;
    }

    @Override
    public JsonNode handle(JobContext ctx) {
        JsonNode spec = ctx.spec();
        List<String> errors = new ArrayList<>();
        MergeConfig config = MergeJobSpec.config(spec, ctx.json(), errors);
        if (config == null) {
            throw new IllegalStateException("The stored spec is no longer valid: " + errors);
        }
        Map<String, Path> dirs = new LinkedHashMap<>();
        List<UUID> inputs = new ArrayList<>();
        spec.get("artifacts").properties().forEach(e -> {
            Artifact a = ctx.artifact(UUID.fromString(e.getValue().asString()));
            dirs.put(e.getKey(), Path.of(a.storagePath()));
            inputs.add(a.id());
        });
        Path out = ctx.newStagingDir().resolve("model");
        MergeOptions options = MergeOptions.defaults().withSeed(spec.path("seed").asLong(0));
        var lastPercent = new int[] {-1};
        MergeResult result = new MergeRunner().run(config, dirs::get, out, options, (done, total, name) -> {
            ctx.throwIfCancelled();
            int percent = (int) (100L * done / total);
            synchronized (lastPercent) {
                if (percent > lastPercent[0]) {
                    lastPercent[0] = percent;
                    ctx.progress(done / (double) total, "merged " + done + " of " + total + " tensors (" + name + ")");
                }
            }
        });
        ctx.throwIfCancelled();
        Artifact published = ctx.publish(ArtifactKind.MODEL, spec.get("output").asString(), out,
                inputs.stream().distinct().toList());
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("artifact", published.id().toString());
        summary.put("method", result.method());
        summary.put("tensors", result.tensors());
        summary.put("parameterCount", result.parameterCount());
        summary.put("layers", result.numLayers());
        summary.put("vocabSize", result.vocabSize());
        summary.put("dtype", result.dtype());
        summary.put("tiedEmbeddings", result.tiedEmbeddings());
        summary.put("warnings", result.warnings());
        summary.put("millis", result.millis());
        return ctx.json().valueToTree(summary);
    }
}
