package dev.amalgam.cli;

import dev.amalgam.modelio.Json;
import dev.amalgam.pruningservice.JudgeJobType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code amalgam judge}: the judge job run locally: benchmark answer files judged by an OpenAI-compatible endpoint;
 * the judgments go to {@code OUT/judgments.jsonl}, the scores are printed as JSON.
 */
@Command(name = "judge", mixinStandardHelpOptions = true,
        description = {"Judges benchmark answers with an OpenAI-compatible chat endpoint and the benchmark's published"
                + " judge prompts (MT-Bench 1-10 grading, AlpacaEval or Arena-Hard pairwise), writes the judgments to"
                + " OUT/judgments.jsonl and prints the scores as JSON. The key is read from the environment variable"
                + " --api-key-env names. When the endpoint fails, OUT holds what was judged and the work directory keeps"
                + " it: run again with a new --out and the same --work-dir to judge only the rest.",
                "Example: OPENAI_API_KEY=... amalgam judge --benchmark mt_bench --questions question.jsonl"
                        + " --answers model_answer/tiny.jsonl --url https://api.openai.com/v1 --judge-model gpt-4"
                        + " --api-key-env OPENAI_API_KEY --out judged"})
class JudgeCommand implements Callable<Integer> {

    @Option(names = "--benchmark", required = true, description = "mt_bench, alpaca_eval, alpaca_eval_weighted or arena_hard")
    String benchmark;

    @Option(names = "--answers", required = true, description = "the model's answers in the benchmark's format")
    Path answers;

    @Option(names = "--baseline", description = "the baseline's answers (alpaca_eval*, arena_hard)")
    Path baseline;

    @Option(names = "--questions", description = "the questions (mt_bench, arena_hard)")
    Path questions;

    @Option(names = "--references", description = "MT-Bench reference answers in model_answer format")
    Path references;

    @Option(names = "--url", required = true, description = "the endpoint's API root, e.g. https://api.openai.com/v1")
    String url;

    @Option(names = "--judge-model", required = true, description = "the judge model's name at the endpoint")
    String judgeModel;

    @Option(names = "--api-key-env", description = "environment variable with the Bearer key (ending in API_KEY)")
    String apiKeyEnv;

    @Option(names = "--rpm", description = "request starts per minute, retries included (default: 60)")
    Double rpm;

    @Option(names = "--max-retries", description = "retries of 429, 5xx, refused connections and timeouts (default: 5)")
    Integer maxRetries;

    @Option(names = "--timeout", description = "seconds one request may take (default: 300)")
    Integer timeoutSeconds;

    @Option(names = "--parallel", description = "judge requests in flight at once (default: 1)")
    Integer parallel;

    @Option(names = "--out", required = true, description = "output directory (judgments.jsonl); must not exist")
    Path out;

    @Option(names = "--work-dir", description = "the judgments made so far; run again with it to resume (default: OUT.work)")
    Path workDir;

    @Override
    public Integer call() throws Exception {
        LocalJobCommand.requireFreshOutput(out);
        ObjectNode job = Json.object();
        job.put("benchmark", benchmark);
        job.put("answers", answers.toString());
        if (baseline != null) {
            job.put("baseline", baseline.toString());
        }
        if (questions != null) {
            job.put("questions", questions.toString());
        }
        if (references != null) {
            job.put("references", references.toString());
        }
        ObjectNode judge = job.putObject("judge");
        judge.put("url", url);
        judge.put("model", judgeModel);
        if (apiKeyEnv != null) {
            judge.put("apiKeyEnv", apiKeyEnv);
        }
        if (rpm != null) {
            job.put("requestsPerMinute", rpm);
        }
        if (maxRetries != null) {
            job.put("maxRetries", maxRetries);
        }
        if (timeoutSeconds != null) {
            job.put("timeoutSeconds", timeoutSeconds);
        }
        if (parallel != null) {
            job.put("parallel", parallel);
        }
        job.put("name", "judgments");
        Path work = workDir != null ? workDir : LocalJobCommand.workDirOf(out);
        try {
            return LocalJobCommand.run("judge", new JudgeJobType(), job, out, work, LocalJobCommand.bar("judging"));
        } catch (IllegalStateException e) {
            // the endpoint failed for good, or the key is not set: the message says which, and where the judgments are
            System.err.println();
            System.err.println("amalgam judge: " + e.getMessage());
            return 1;
        }
    }
}
