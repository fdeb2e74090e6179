package dev.amalgam.pruningservice;

import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.eval.Perplexity;
import dev.amalgam.modelengine.eval.PerplexityResult;
import dev.amalgam.platform.artifact.Artifact;
import dev.amalgam.platform.worker.JobContext;
import dev.amalgam.platform.worker.JobHandler;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;

/** Runs an evaluation job: the engine's perplexity of the model on the dataset; the numbers are the job's result. */
@Component
class EvaluationJobHandler implements JobHandler {

    private final EngineOptions engine;

    EvaluationJobHandler(@Value("${amalgam.engine.device:cpu}") String device) {
        this.engine = EngineOptions.parse(device);
    }

    @Override
    public String type() {
        return EvaluationJobSpec.TYPE;
    }

    @Override
    public JsonNode handle(JobContext ctx) {
        List<String> errors = new ArrayList<>();
        EvaluationJobSpec.check(ctx.spec(), errors);
        if (!errors.isEmpty()) {
            throw new IllegalStateException("The stored spec is no longer valid: " + errors);
        }
        Artifact model = ctx.artifact(UUID.fromString(ctx.spec().get("model").asString()));
        Artifact dataset = ctx.artifact(UUID.fromString(ctx.spec().get("dataset").asString()));
        int seqLen = EvaluationJobSpec.seqLen(ctx.spec());
        // the model's context bounds seqLen: Perplexity.evaluate checks it again before loading the weights
        ctx.progress(0, "evaluating " + model.name() + " on " + dataset.name());
        PerplexityResult r = Perplexity.evaluate(model.dir(), dataset.singleFile(), seqLen, engine, (done, total) -> {
            ctx.throwIfCancelled();
            ctx.progress(done / (double) total, "evaluated " + done + " of " + total + " chunks");
        });
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("perplexity", r.perplexity());
        result.put("tokens", r.tokens());
        result.put("chunks", r.chunks());
        result.put("totalNll", r.totalNll());
        result.put("seqLen", seqLen);
        ctx.metrics(0, Map.of("perplexity", r.perplexity()));
        return ctx.json().valueToTree(result);
    }
}
