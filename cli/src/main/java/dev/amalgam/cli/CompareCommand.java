package dev.amalgam.cli;

import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.eval.TaskFormat;
import dev.amalgam.modelio.Json;
import dev.amalgam.pruningservice.ComparisonJobType;
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
 * {@code amalgam compare}: the comparison job run locally: the same evaluation of several models and/or their
 * judgments ({@code amalgam judge}'s judgments.jsonl), tabled as the papers do in {@code OUT/report.md} and
 * {@code OUT/report.json}; the result is printed as JSON.
 */
@Command(name = "compare", mixinStandardHelpOptions = true,
        description = {"Compares models side by side as the papers' tables do: perplexity (--data), zero-shot"
                + " multiple-choice accuracy (--task) and their average, and judged benchmarks (--judgment: AlpacaEval 2"
                + " LC and WR, Arena-Hard, MT-Bench) from the judgments files `amalgam judge` writes. Writes"
                + " OUT/report.md and OUT/report.json and prints the result as JSON.",
                "Example: amalgam compare --model base --model fused --task piqa=piqa:piqa.jsonl"
                        + " --judgment base=mt_bench:base-judged/judgments.jsonl"
                        + " --judgment fused=mt_bench:fused-judged/judgments.jsonl --out report"})
class CompareCommand implements Callable<Integer> {

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", required = true, description = "Hugging Face model directory (repeatable; the table's rows in order)")
    List<Path> models = new ArrayList<>();

    @Option(names = "--data", description = "JSONL dataset for perplexity")
    Path data;

    @Option(names = "--seq-len", defaultValue = "2048", description = "perplexity chunk length in tokens (default: ${DEFAULT-VALUE})")
    int seqLen;

    @Option(names = "--task", paramLabel = "NAME=FORMAT:FILE",
            description = "a multiple-choice task (repeatable), as in amalgam eval")
    List<String> tasks = new ArrayList<>();

    @Option(names = "--limit", description = "score only the first N records of every task")
    Integer limit;

    @Option(names = "--batch-size", defaultValue = "16", description = "multiple-choice requests per forward (default: ${DEFAULT-VALUE})")
    int batchSize;

    @Option(names = "--judgment", paramLabel = "MODEL=BENCHMARK:FILE",
            description = "a judgments file of one of the models (repeatable): MODEL as given to --model, BENCHMARK one of"
                    + " mt_bench, alpaca_eval, alpaca_eval_weighted, arena_hard, FILE the judgments.jsonl of amalgam judge")
    List<String> judgments = new ArrayList<>();

    @Option(names = "--device", defaultValue = "cpu", description = "cpu, or gpu[:N] for FP16 on CUDA (default: ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--out", required = true, description = "output directory (report.md, report.json); must not exist")
    Path out;

    @Option(names = "--work-dir", description = "the models evaluated so far; run again with it to resume (default: OUT.work)")
    Path workDir;

    @Override
    public Integer call() throws Exception {
        if (data == null && tasks.isEmpty() && judgments.isEmpty()) {
            throw new ParameterException(spec.commandLine(), "give --data (perplexity), --task (multiple choice),"
                    + " --judgment (judged benchmarks), or several");
        }
        LocalJobCommand.requireFreshOutput(out);
        ObjectNode job = Json.object();
        ArrayNode list = job.putArray("models");
        models.forEach(m -> list.add(m.toString()));
        if (data != null) {
            job.put("dataset", data.toString());
            job.put("seqLen", seqLen);
        }
        if (!tasks.isEmpty()) {
            ArrayNode t = job.putArray("tasks");
            for (String task : tasks) {
                t.add(task(task));
            }
            job.put("batchSize", batchSize);
        }
        if (!judgments.isEmpty()) {
            ArrayNode j = job.putArray("judgments");
            for (String judgment : judgments) {
                j.add(judgment(judgment));
            }
        }
        job.put("name", "report");
        Path work = workDir != null ? workDir : LocalJobCommand.workDirOf(out);
        return LocalJobCommand.run("compare", new ComparisonJobType(EngineOptions.parse(device)), job, out, work,
                LocalJobCommand.bar("comparing"));
    }

    /** {@code NAME=FORMAT:FILE} as a spec task. */
    private ObjectNode task(String arg) {
        String[] p = split(arg, "--task", "NAME=FORMAT:FILE, e.g. piqa=piqa:piqa.jsonl (formats: "
                + String.join(", ", TaskFormat.ids()) + ")");
        ObjectNode t = Json.object();
        t.put("name", p[0]);
        t.put("format", p[1]);
        t.put("dataset", p[2]);
        if (limit != null) {
            t.put("limit", limit);
        }
        return t;
    }

    /** {@code MODEL=BENCHMARK:FILE} as a spec judgment. */
    private ObjectNode judgment(String arg) {
        String[] p = split(arg, "--judgment", "MODEL=BENCHMARK:FILE, e.g. fused=mt_bench:judged/judgments.jsonl");
        ObjectNode j = Json.object();
        j.put("model", p[0]);
        j.put("benchmark", p[1]);
        j.put("dataset", p[2]);
        return j;
    }

    /** {@code A=B:C} in its parts: before the first '=', up to the first ':' after it, the rest (FILE may hold ':'). */
    private String[] split(String arg, String option, String expected) {
        int eq = arg.indexOf('=');
        int colon = eq < 0 ? -1 : arg.indexOf(':', eq + 1);
        if (eq <= 0 || colon < 0 || colon == eq + 1 || colon == arg.length() - 1) {
            throw new ParameterException(spec.commandLine(), option + " '" + arg + "': expected " + expected);
        }
        return new String[] {arg.substring(0, eq), arg.substring(eq + 1, colon), arg.substring(colon + 1)};
    }
}
