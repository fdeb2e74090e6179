package dev.amalgam.modelengine.generate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.amalgam.modelengine.BlockMask;
import dev.amalgam.modelengine.CheckpointLoader;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.KvCache;
import dev.amalgam.modelengine.LlamaModel;
import dev.amalgam.modelengine.text.ChatMessage;
import dev.amalgam.modelengine.text.TextTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Autoregressive decoding with a KV cache: the prompts are run once (left-padded into one batch), then one token per
 * step. Greedy, temperature, top-k, top-p, seed, max new tokens, stop at EOS.
 *
 * <pre>{@code
 * Generation g = Generator.generateChat(model, tokenizer, List.of(ChatMessage.user("Hi")),
 *         GenerationConfig.sampling(256, 0.8, 0.95, 42));
 * List<GeneratedSequence> five = new Generator(model, BlockMask.none())
 *         .generate(List.of(prompt, prompt, prompt, prompt, prompt), config, eosIds);
 * }</pre>
 */
public final class Generator {

    private final LlamaModel model;
    private final BlockMask blocks;

    /** Told of every token as it is chosen, with the logits it was drawn from; may end its row. */
    public interface TokenListener {
        /**
         * @param row the prompt's index
         * @param logits the model's raw next-token logits of every row: {@code logits[offset, offset + vocab)} is this row's
         * @return true to end the row here (its finish reason is STOP; the token is kept)
         */
        boolean onToken(int row, int token, float[] logits, int offset, int vocab);
    }

    public Generator(LlamaModel model, BlockMask blocks) {
        this.model = model;
        this.blocks = blocks;
    }

    /**
     * Continues every prompt (at least one token each). Sampling draws from one random stream seeded by
     * {@code config.seed()}, row by row, so the same inputs give the same outputs.
     */
    public List<GeneratedSequence> generate(List<int[]> prompts, GenerationConfig config, Set<Integer> eosTokenIds) {
        Sampler shared = new Sampler(config, config.seed());
        Sampler[] samplers = new Sampler[prompts.size()];
        Arrays.fill(samplers, shared);
        return generate(prompts, config, eosTokenIds, samplers, () -> { }, null);
    }

    /**
     * Continues every prompt, row {@code i} sampling from its own random stream seeded by {@code rowSeeds[i]}
     * ({@code config.seed()} is not used), so that a row's tokens do not depend on which rows share its batch.
     * {@code onStep} runs after every decoding step (e.g. a cancellation check that throws).
     */
    public List<GeneratedSequence> generate(List<int[]> prompts, GenerationConfig config, Set<Integer> eosTokenIds,
            long[] rowSeeds, Runnable onStep) {
        return generate(prompts, config, eosTokenIds, rowSeeds, onStep, null);
    }

    /** As {@link #generate(List, GenerationConfig, Set, long[], Runnable)}, telling {@code listener} of every token. */
    public List<GeneratedSequence> generate(List<int[]> prompts, GenerationConfig config, Set<Integer> eosTokenIds,
            long[] rowSeeds, Runnable onStep, TokenListener listener) {
        if (rowSeeds.length != prompts.size()) {
            throw new IllegalArgumentException(rowSeeds.length + " seeds for " + prompts.size() + " prompts");
        }
        Sampler[] samplers = new Sampler[prompts.size()];
        for (int i = 0; i < samplers.length; i++) {
            samplers[i] = new Sampler(config, rowSeeds[i]);
        }
        return generate(prompts, config, eosTokenIds, samplers, onStep, listener);
    }

    private List<GeneratedSequence> generate(List<int[]> prompts, GenerationConfig config, Set<Integer> eosTokenIds,
            Sampler[] samplers, Runnable onStep, TokenListener listener) {
        int batch = prompts.size();
        int width = 0;
        for (int[] p : prompts) {
            if (p.length == 0) {
                throw new IllegalArgumentException("prompts must not be empty");
            }
            width = Math.max(width, p.length);
        }
        List<List<Integer>> out = new ArrayList<>();
        FinishReason[] reasons = new FinishReason[batch];
        Arrays.fill(reasons, FinishReason.LENGTH);
        for (int i = 0; i < batch; i++) {
            out.add(new ArrayList<>());
        }
        if (config.maxNewTokens() == 0 || batch == 0) {
            return finish(out, reasons);
        }
        // Prompts left-padded so every row's next token sits in the last column.
        long[][] ids = new long[batch][width];
        long[][] mask = new long[batch][width];
        for (int i = 0; i < batch; i++) {
            int[] p = prompts.get(i);
            for (int t = 0; t < p.length; t++) {
                ids[i][width - p.length + t] = p[t];
                mask[i][width - p.length + t] = 1;
            }
        }
        boolean[] done = new boolean[batch];
        int vocab = model.config().vocabSize();
        try (KvCache cache = model.newCache(batch, blocks, width + config.maxNewTokens())) {
            float[] last = stepLogits(ids, mask, cache);
            for (int step = 0; step < config.maxNewTokens(); step++) {
                long[][] next = new long[batch][1];
                boolean allDone = true;
                for (int i = 0; i < batch; i++) {
                    if (done[i]) {
                        continue; // a finished row keeps decoding its last token; the result is ignored
                    }
                    int token = samplers[i].next(last, i * vocab, vocab);
                    out.get(i).add(token);
                    if (config.stopAtEos() && eosTokenIds.contains(token)) {
                        done[i] = true;
                        reasons[i] = FinishReason.EOS;
                    }
                    if (listener != null && listener.onToken(i, token, last, i * vocab, vocab) && !done[i]) {
                        done[i] = true;
                        reasons[i] = FinishReason.STOP;
                    }
                    allDone &= done[i];
                }
                onStep.run();
                if (allDone || step == config.maxNewTokens() - 1) {
                    break;
                }
                long[][] ones = new long[batch][1];
                for (int i = 0; i < batch; i++) {
                    List<Integer> row = out.get(i);
                    next[i][0] = row.isEmpty() ? ids[i][width - 1] : row.get(row.size() - 1);
                    ones[i][0] = 1;
                }
                last = stepLogits(next, ones, cache);
            }
        }
        return finish(out, reasons);
    }

    /** Runs new positions through the cached model; returns the last position's logits, [batch * vocab]. */
    private float[] stepLogits(long[][] ids, long[][] mask, KvCache cache) {
        try (NDManager step = model.manager().newSubManager()) {
            // Head on the last position only: [batch, 1, vocab].
            NDArray logits = model.forward(step.create(ids), step.create(mask), blocks, cache, false, ids[0].length - 1)
                    .logits();
            return logits.toFloatArray();
        }
    }

    private static List<GeneratedSequence> finish(List<List<Integer>> out, FinishReason[] reasons) {
        List<GeneratedSequence> result = new ArrayList<>();
        for (int i = 0; i < out.size(); i++) {
            result.add(new GeneratedSequence(out.get(i).stream().mapToInt(Integer::intValue).toArray(), reasons[i]));
        }
        return result;
    }

    /** Loads the model and tokenizer of {@code modelDir}, completes {@code prompt}, and frees everything. */
    public static Generation generate(Path modelDir, String prompt, GenerationConfig config, EngineOptions options) {
        try (TextTokenizer tokenizer = TextTokenizer.load(modelDir);
                LlamaModel model = CheckpointLoader.load(modelDir, options)) {
            return generate(model, tokenizer, prompt, config);
        }
    }

    /** Completes a plain-text prompt (tokenised with the tokenizer's special tokens, e.g. a leading BOS). */
    public static Generation generate(LlamaModel model, TextTokenizer tokenizer, String prompt, GenerationConfig config) {
        return decode(model, tokenizer, tokenizer.encode(prompt, true), config);
    }

    /** Answers a conversation rendered with the model's own chat template (generation prompt added). */
    public static Generation generateChat(LlamaModel model, TextTokenizer tokenizer, List<ChatMessage> messages,
            GenerationConfig config) {
        return decode(model, tokenizer, tokenizer.encodeChat(messages, true), config);
    }

    private static Generation decode(LlamaModel model, TextTokenizer tokenizer, int[] prompt, GenerationConfig config) {
        Set<Integer> eos = tokenizer.eosTokenIds(model.config().eosTokenIds());
        GeneratedSequence s = new Generator(model, BlockMask.none()).generate(List.of(prompt), config, eos).get(0);
        return new Generation(tokenizer.decode(s.tokens(), true), s.tokens(), s.finishReason());
    }
}
