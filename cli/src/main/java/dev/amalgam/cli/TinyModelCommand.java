package dev.amalgam.cli;

import dev.amalgam.modelengine.Architecture;
import dev.amalgam.modelengine.tiny.TinyModels;
import dev.amalgam.modelengine.tiny.TinySizes;
import dev.amalgam.modelengine.tiny.TinyVocabulary;
import dev.amalgam.modelio.DType;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code amalgam tiny-model}: a random tiny checkpoint with a working tokenizer, for trying things out. */
@Command(name = "tiny-model", mixinStandardHelpOptions = true,
        description = "Write a random tiny Llama-family checkpoint (config, safetensors, tokenizer, chat template).")
class TinyModelCommand implements Callable<Integer> {

    @Option(names = "--arch", required = true, description = "llama, mistral or qwen2")
    String arch;

    @Option(names = "--out", required = true, description = "output directory")
    Path out;

    @Option(names = "--hidden-size", defaultValue = "64", description = "default: ${DEFAULT-VALUE}")
    int hiddenSize;

    @Option(names = "--intermediate-size", defaultValue = "128", description = "default: ${DEFAULT-VALUE}")
    int intermediateSize;

    @Option(names = "--layers", defaultValue = "2", description = "default: ${DEFAULT-VALUE}")
    int layers;

    @Option(names = "--heads", defaultValue = "4", description = "default: ${DEFAULT-VALUE}")
    int heads;

    @Option(names = "--kv-heads", defaultValue = "2", description = "default: ${DEFAULT-VALUE}")
    int kvHeads;

    @Option(names = "--max-positions", defaultValue = "256", description = "default: ${DEFAULT-VALUE}")
    int maxPositions;

    @Option(names = "--dtype", defaultValue = "BF16", description = "BF16, F16 or F32 (default: ${DEFAULT-VALUE})")
    String dtype;

    @Option(names = "--seed", defaultValue = "0", description = "default: ${DEFAULT-VALUE}")
    long seed;

    @Option(names = "--tokenizer", defaultValue = "bytes", description = "bytes (one token a byte) or bpe (byte-level"
            + " BPE with 13 merges of common English pairs: another vocabulary of the same size; default: ${DEFAULT-VALUE})")
    String tokenizer;

    @Override
    public Integer call() throws java.io.IOException {
        if (java.nio.file.Files.isDirectory(out)) {
            try (var entries = java.nio.file.Files.list(out)) {
                if (entries.findAny().isPresent()) {
                    throw new IllegalArgumentException("--out " + out + " is not empty; choose a new or empty directory");
                }
            }
        } else if (java.nio.file.Files.exists(out)) {
            throw new IllegalArgumentException("--out " + out + " is a file; choose a new or empty directory");
        }
        TinyVocabulary vocabulary = TinyVocabulary.fromName(tokenizer);
        TinySizes sizes = new TinySizes(hiddenSize, intermediateSize, layers, heads, kvHeads, maxPositions,
                DType.fromSafetensorsName(dtype.toUpperCase()));
        Path dir = TinyModels.write(Architecture.fromName(arch), out, sizes, seed, vocabulary);
        System.out.println(dir.toAbsolutePath());
        return 0;
    }
}
