package dev.amalgam.cli;

import dev.amalgam.modelengine.CheckpointLoader;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.LlamaModel;
import dev.amalgam.modelengine.generate.Generation;
import dev.amalgam.modelengine.generate.GenerationConfig;
import dev.amalgam.modelengine.generate.Generator;
import dev.amalgam.modelengine.text.ChatMessage;
import dev.amalgam.modelengine.text.TextTokenizer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code amalgam generate}: complete a prompt (or answer it through the model's chat template). */
@Command(name = "generate", mixinStandardHelpOptions = true, description = "Complete a prompt with a model (KV-cached decoding).")
class GenerateCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "Hugging Face model directory")
    Path model;

    @Option(names = "--prompt", required = true, description = "the prompt text")
    String prompt;

    @Option(names = "--chat", description = "render the prompt as a user message with the model's chat template")
    boolean chat;

    @Option(names = "--max-new-tokens", defaultValue = "64", description = "default: ${DEFAULT-VALUE}")
    int maxNewTokens;

    @Option(names = "--temperature", defaultValue = "0", description = "0 = greedy (default: ${DEFAULT-VALUE})")
    double temperature;

    @Option(names = "--top-p", defaultValue = "1.0", description = "default: ${DEFAULT-VALUE}")
    double topP;

    @Option(names = "--top-k", defaultValue = "0", description = "0 = off (default: ${DEFAULT-VALUE})")
    int topK;

    @Option(names = "--seed", defaultValue = "0", description = "default: ${DEFAULT-VALUE}")
    long seed;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu, or gpu[:N] (default: ${DEFAULT-VALUE})")
    String device;

    @Override
    public Integer call() {
        GenerationConfig config = new GenerationConfig(maxNewTokens, temperature, topP, topK, seed, true);
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
}
