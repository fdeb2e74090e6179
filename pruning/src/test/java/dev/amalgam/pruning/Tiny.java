package dev.amalgam.pruning;

import dev.amalgam.modelengine.Architecture;
import dev.amalgam.modelengine.tiny.TinyModels;
import dev.amalgam.modelengine.tiny.TinySizes;
import dev.amalgam.modelio.DType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/** Tiny random checkpoints and datasets for the tests (seconds, not minutes). */
final class Tiny {

    /** 262 byte-level tokens (TinyModels' tokenizer). */
    static final int VOCAB = 262;

    private Tiny() {
    }

    /** hidden 32, intermediate 64, {@code layers} layers, 4 heads over 2 KV heads, 128 positions. */
    static Path model(Architecture arch, Path dir, int layers, DType dtype, long seed) {
        return TinyModels.write(arch, dir, new TinySizes(32, 64, layers, 4, 2, 128, dtype), seed);
    }

    static Path llama(Path dir) {
        return model(Architecture.LLAMA, dir, 4, DType.F32, 7);
    }

    /** JSONL with {@code rows} rows of {@code rowLen} random token ids. */
    static Path idsJsonl(Path file, int rows, int rowLen, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < rows; i++) {
            sb.append("{\"input_ids\": [");
            for (int j = 0; j < rowLen; j++) {
                // A skewed distribution so that some tokens are predictable and blocks matter differently.
                int id = r.nextInt(4) == 0 ? r.nextInt(VOCAB) : 97 + r.nextInt(8);
                sb.append(j == 0 ? "" : ", ").append(id);
            }
            sb.append("]}\n");
        }
        return write(file, sb.toString());
    }

    /** JSONL of English-like text rows. */
    static Path textJsonl(Path file, int rows, long seed) {
        String[] words = {"the", "model", "prunes", "blocks", "and", "keeps", "layers", "of", "attention", "mlp"};
        SplittableRandom r = new SplittableRandom(seed);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < rows; i++) {
            StringBuilder text = new StringBuilder();
            for (int j = 0; j < 12; j++) {
                text.append(j == 0 ? "" : " ").append(words[r.nextInt(words.length)]);
            }
            sb.append("{\"text\": \"").append(text).append(".\"}\n");
        }
        return write(file, sb.toString());
    }

    static Path write(Path file, String content) {
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, content);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
