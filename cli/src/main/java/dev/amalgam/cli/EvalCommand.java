package dev.amalgam.cli;

import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.eval.TaskFormat;
import dev.amalgam.modelio.Json;
import dev.amalgam.pruningservice.EvaluationJobType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code amalgam eval}: the evaluation job run locally, as JSON: perplexity on a JSONL dataset ({@code --data}),
 * zero-shot multiple-choice tasks scored as lm-evaluation-harness 0.4 does ({@code --task}), or both.
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"Evaluates a model and prints the result as JSON: perplexity on a JSONL dataset (\"text\" or"
                + " \"input_ids\" per line) and/or zero-shot multiple-choice tasks scored as lm-evaluation-harness 0.4"
                + " does (acc, acc_norm, standard errors, and their average).",
                "Example: amalgam eval --model DIR --task piqa=piqa:piqa-validation.jsonl --task wg=winogrande:wg.jsonl --limit 500"})
class EvalCommand implements Callable<Integer> {

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", required = true, description = "Hugging Face model directory")
    Path model;

    @Option(names = "--data", description = "JSONL dataset for perplexity")
    Path data;

    @Option(names = "--seq-len", defaultValue = "2048", description = "perplexity chunk length in tokens (default: ${DEFAULT-VALUE})")
    int seqLen;

    @Option(names = "--task", paramLabel = "NAME=FORMAT:FILE",
            description = "a multiple-choice task (repeatable); FORMAT is one of generic, piqa, winogrande, hellaswag,"
                    + " arc_easy, arc_challenge; FILE a JSONL file of records in that format")
    List<String> tasks = new ArrayList<>();

    @Option(names = "--limit", description = "score only the first N records of every task")
    Integer limit;

    @Option(names = "--batch-size", defaultValue = "16", description = "multiple-choice requests per forward (default: ${DEFAULT-VALUE})")
    int batchSize;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu, or gpu[:N] for FP16 on CUDA (default: ${DEFAULT-VALUE})")
    String device;

    @Override
    public Integer call() throws Exception {
        if (data == null && tasks.isEmpty()) {
            throw new ParameterException(spec.commandLine(), "give --data (perplexity), --task (multiple choice), or both");
        }
        ObjectNode job = Json.object();
        job.put("model", model.toString());
        if (data != null) {
            job.put("dataset", data.toString());
            job.put("seqLen", seqLen);
        }
        if (!tasks.isEmpty()) {
            ArrayNode list = job.putArray("tasks");
            for (String t : tasks) {
                list.add(task(t));
            }
            job.put("batchSize", batchSize);
        }
        // an evaluation publishes nothing: its output and work directories are never created
        Path scratch = Files.createTempDirectory("amalgam-eval-");
        try {
            return LocalJobCommand.run("eval", new EvaluationJobType(EngineOptions.parse(device)), job, scratch.resolve("out"),
                    scratch.resolve("work"), LocalJobCommand.bar("evaluating"));
        } finally {
            Files.deleteIfExists(scratch);
        }
    }

    /** {@code NAME=FORMAT:FILE} as a spec task. */
    private ObjectNode task(String arg) {
        int eq = arg.indexOf('=');
        int colon = eq < 0 ? -1 : arg.indexOf(':', eq + 1);
        if (eq <= 0 || colon < 0 || colon == arg.length() - 1) {
            throw new ParameterException(spec.commandLine(), "--task '" + arg + "': expected NAME=FORMAT:FILE, e.g."
                    + " piqa=piqa:piqa.jsonl (formats: " + String.join(", ", TaskFormat.ids()) + ")");
        }
        ObjectNode t = Json.object();
        t.put("name", arg.substring(0, eq));
        t.put("format", arg.substring(eq + 1, colon));
        t.put("dataset", arg.substring(colon + 1));
        if (limit != null) {
            t.put("limit", limit);
        }
        return t;
    }
}
