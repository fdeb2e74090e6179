package dev.amalgam.cli;

import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelio.Json;
import dev.amalgam.pruningservice.EvaluationJobType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import tools.jackson.databind.node.ObjectNode;

/** {@code amalgam eval}: the evaluation job (perplexity of a model on a JSONL dataset) run locally, as JSON. */
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
    public Integer call() throws Exception {
        ObjectNode spec = Json.object();
        spec.put("model", model.toString());
        spec.put("dataset", data.toString());
        spec.put("seqLen", seqLen);
        // an evaluation publishes nothing: its output and work directories are never created
        Path scratch = Files.createTempDirectory("amalgam-eval-");
        try {
            return LocalJobCommand.run("eval", new EvaluationJobType(EngineOptions.parse(device)), spec, scratch.resolve("out"),
                    scratch.resolve("work"), LocalJobCommand.bar("evaluating"));
        } finally {
            Files.deleteIfExists(scratch);
        }
    }
}
