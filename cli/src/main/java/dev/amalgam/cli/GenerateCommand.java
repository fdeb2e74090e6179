package dev.amalgam.cli;

import dev.amalgam.modelengine.CheckpointLoader;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.LlamaModel;
import dev.amalgam.modelengine.generate.Generation;
import dev.amalgam.modelengine.generate.GenerationConfig;
import dev.amalgam.modelengine.generate.Generator;
import dev.amalgam.modelengine.text.ChatMessage;
import dev.amalgam.modelengine.text.TextTokenizer;
import dev.amalgam.modelio.Json;
import dev.amalgam.pruningservice.GenerateJobType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code amalgam generate}: complete one prompt (or answer it through the model's chat template), or, with
 * {@code --questions}, run the generate job locally: answer a benchmark's question file and write its answer file.
 */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Complete a prompt with a model (KV-cached decoding), or answer a benchmark's questions"
                + " (--questions, --format, --out) and write the answer file MT-Bench, AlpacaEval or Arena-Hard reads;"
                + " the job's result (settings included) is printed as JSON.",
                "Example: amalgam generate --model DIR --questions question.jsonl --format mt_bench --out answers"})
class GenerateCommand implements Callable<Integer> {

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", required = true, description = "Hugging Face model directory")
    Path model;

    @Option(names = "--prompt", description = "the prompt text (one completion)")
    String prompt;

    @Option(names = "--chat", description = "render the prompt as a user message with the model's chat template")
    boolean chat;

    @Option(names = "--questions", description = "a benchmark's question file (MT-Bench / Arena-Hard question.jsonl,"
            + " AlpacaEval's eval set as JSON or JSONL)")
    Path questions;

    @Option(names = "--format", description = "with --questions: mt_bench, alpaca_eval or arena_hard")
    String format;

    @Option(names = "--out", description = "with --questions: the output directory (it receives the answer file); must not exist")
    Path out;

    @Option(names = "--model-id", description = "with --questions: the model's name in the answer file (default: the directory's name)")
    String modelId;

    @Option(names = "--max-new-tokens", description = "default: 64 for --prompt, the benchmark's for --questions")
    Integer maxNewTokens;

    @Option(names = "--temperature", description = "0 = greedy; default: 0 for --prompt, the benchmark's for --questions")
    Double temperature;

    @Option(names = "--top-p", description = "default: 1.0")
    Double topP;

    @Option(names = "--top-k", description = "0 = off; default: 0 for --prompt, the benchmark's for --questions")
    Integer topK;

    @Option(names = "--seed", defaultValue = "0", description = "default: ${DEFAULT-VALUE}")
    long seed;

    @Option(names = "--choices", description = "with --questions: answers per question (mt_bench only; default 1)")
    Integer choices;

    @Option(names = "--system-prompt", description = "with --questions: a system message before every conversation")
    String systemPrompt;

    @Option(names = "--batch-size", description = "with --questions: conversations decoded together (default 8)")
    Integer batchSize;

    @Option(names = "--limit", description = "with --questions: answer only the first N questions")
    Integer limit;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu, or gpu[:N] (default: ${DEFAULT-VALUE})")
    String device;

    @Override
    public Integer call() throws Exception {
        if ((prompt == null) == (questions == null)) {
            throw new ParameterException(spec.commandLine(), "give either --prompt (one completion) or --questions"
                    + " (a benchmark's answer file)");
        }
        return questions != null ? answerFile() : completion();
    }

    private int completion() {
        GenerationConfig config = new GenerationConfig(maxNewTokens == null ? 64 : maxNewTokens,
                temperature == null ? 0 : temperature, topP == null ? 1.0 : topP, topK == null ? 0 : topK, seed, true);
        try (TextTokenizer tokenizer = TextTokenizer.load(model);
             LlamaModel llama = CheckpointLoader.load(model, EngineOptions.parse(device))) {
            Generation g = chat
                    ? Generator.generateChat(llama, tokenizer, List.of(ChatMessage.user(prompt)), config)
                    : Generator.generate(llama, tokenizer, prompt, config);
            System.out.println(g.text());
            System.err.println("(" + g.tokens().length + " tokens, stopped: " + g.finishReason() + ")");
        }
        return 0;
    }

    private int answerFile() throws Exception {
        if (format == null || out == null) {
            throw new ParameterException(spec.commandLine(), "--questions needs --format and --out");
        }
        ObjectNode job = Json.object();
        job.put("model", model.toString());
        job.put("questions", questions.toString());
        job.put("format", format);
        job.put("name", "answers");
        if (modelId != null) {
            job.put("modelId", modelId);
        }
        putIfSet(job, "maxNewTokens", maxNewTokens);
        putIfSet(job, "temperature", temperature);
        putIfSet(job, "topP", topP);
        putIfSet(job, "topK", topK);
        job.put("seed", seed);
        putIfSet(job, "choices", choices);
        if (systemPrompt != null) {
            job.put("systemPrompt", systemPrompt);
        }
        putIfSet(job, "batchSize", batchSize);
        putIfSet(job, "limit", limit);
        LocalJobCommand.requireFreshOutput(out);
        // the job keeps no checkpoint: its work directory is never used
        Path scratch = Files.createTempDirectory("amalgam-generate-");
        try {
            return LocalJobCommand.run("generate", new GenerateJobType(EngineOptions.parse(device), Clock.systemUTC()),
                    job, out, scratch.resolve("work"), LocalJobCommand.bar("generating"));
        } finally {
            Files.deleteIfExists(scratch);
        }
    }

    private static void putIfSet(ObjectNode job, String field, Number value) {
        if (value instanceof Integer i) {
            job.put(field, i);
        } else if (value instanceof Double d) {
            job.put(field, d);
        }
    }
}
