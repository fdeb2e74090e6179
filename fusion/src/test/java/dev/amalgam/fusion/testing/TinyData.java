package dev.amalgam.fusion.testing;

import dev.amalgam.fusion.data.ChatTokenizer;
import dev.amalgam.fusion.data.PreferenceRecord;
import dev.amalgam.fusion.data.TokenizedPreference;
import dev.amalgam.modelengine.Architecture;
import dev.amalgam.modelengine.text.TextTokenizer;
import dev.amalgam.modelengine.tiny.TinyModels;
import dev.amalgam.modelengine.tiny.TinySizes;
import dev.amalgam.modelio.DType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Tiny checkpoints and synthetic preference data with a learnable pattern, for fusion tests. */
public final class TinyData {

    private TinyData() {
    }

    /** A small FP32 Llama (hidden 32, 2 layers) in {@code dir}. */
    public static Path llama(Path dir, long seed) {
        return TinyModels.write(Architecture.LLAMA, dir, new TinySizes(32, 64, 2, 4, 2, 256, DType.F32), seed);
    }

    /** A small FP32 Qwen2 (tied embeddings, q/k/v biases). */
    public static Path qwen2(Path dir, long seed) {
        return TinyModels.write(Architecture.QWEN2, dir, new TinySizes(32, 64, 2, 4, 2, 256, DType.F32), seed);
    }

    /**
     * Records whose chosen answers are words of the letters a-e and whose rejected answers are digits: a pattern a
     * policy can learn and that carries over to unseen records.
     */
    public static List<PreferenceRecord> patterned(int n, long seed) {
        Random r = new Random(seed);
        List<PreferenceRecord> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String prompt = "q" + word(r, "xyz", 3);
            out.add(PreferenceRecord.preference(prompt, word(r, "abcde", 6), word(r, "abcde", 5),
                    word(r, "0123456789", 5)));
        }
        return out;
    }

    /** {@link #patterned} records tokenized with the model's tokenizer (prompts up to 64 tokens, responses 32). */
    public static List<TokenizedPreference> tokenizedPatterned(Path modelDir, int n, long seed) {
        try (TextTokenizer tok = TextTokenizer.load(modelDir)) {
            ChatTokenizer ct = new ChatTokenizer(tok, 64, 32);
            return patterned(n, seed).stream().map(ct::tokenize).toList();
        }
    }

    private static String word(Random r, String alphabet, int len) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < len; i++) {
            sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
        }
        return sb.toString();
    }
}
