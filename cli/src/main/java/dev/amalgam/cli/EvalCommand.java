package dev.amalgam.cli;

import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.eval.Perplexity;
import dev.amalgam.modelengine.eval.PerplexityResult;
import dev.amalgam.modelio.Json;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code amalgam eval}: perplexity of a model on a JSONL dataset, as JSON. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Perplexity of a model on a JSONL dataset (\"text\" or \"input_ids\" per line), printed as JSON.")
class EvalCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "Hugging Face model directory")
    Path model;

    @Option(names = "--data", required = true, description = "JSONL dataset")
    Path data;

    @Option(names = "--seq-len", defaultValue = "2048", description = "chunk length in tokens (default: ${DEFAULT-VALUE})")
    int seqLen;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu, or gpu[:N] for FP16 on CUDA (default: ${DEFAULT-VALUE})")
    String device;

    @Override
    public Integer call() {
        if (seqLen < 2) {
            throw new IllegalArgumentException("--seq-len must be at least 2");
        }
        ProgressBar bar = new ProgressBar(System.err, "evaluating");
        PerplexityResult r = Perplexity.evaluate(model, data, seqLen, EngineOptions.parse(device),
                (done, total) -> bar.update(done, total, "chunks"));
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("perplexity", r.perplexity());
        out.put("tokens", r.tokens());
        out.put("chunks", r.chunks());
        out.put("totalNll", r.totalNll());
        out.put("seqLen", seqLen);
        System.out.println(Json.toPrettyString(Json.MAPPER.valueToTree(out)));
        return 0;
    }
}
