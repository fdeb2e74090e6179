package dev.amalgam.modelengine.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.amalgam.modelengine.BlockMask;
import dev.amalgam.modelengine.CheckpointLoader;
import dev.amalgam.modelengine.EngineOptions;
import dev.amalgam.modelengine.LlamaConfig;
import dev.amalgam.modelengine.LlamaModel;
import dev.amalgam.modelengine.LogProbs;
import dev.amalgam.modelengine.text.TextTokenizer;
import dev.amalgam.modelio.HfModelDir;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Perplexity over a dataset: PPL = exp(total NLL / predicted tokens), summed in double over fixed-length chunks.
 * The scoring function of BlockPruner (run with blocks skipped) and of {@code amalgam eval}.
 *
 * <pre>{@code
 * TokenChunks data = Perplexity.loadDataset(Path.of("calib.jsonl"), tokenizer, 2048);
 * PerplexityResult r = Perplexity.evaluate(model, data, BlockMask.none().skipAttention(5), 1);
 * }</pre>
 */
public final class Perplexity {

    private Perplexity() {
    }

    /**
     * Loads the model and tokenizer of {@code modelDir}, evaluates {@code jsonl}, and frees everything.
     *
     * @throws IllegalArgumentException when {@code seqLen} exceeds the model's {@code max_position_embeddings}
     *     (checked from config.json before the weights are loaded)
     */
    public static PerplexityResult evaluate(Path modelDir, Path jsonl, int seqLen, EngineOptions options) {
        return evaluate(modelDir, jsonl, seqLen, options, (done, total) -> { });
    }

    /** Reports how many of a run's chunks are done. */
    @FunctionalInterface
    public interface Progress {
        void chunks(int done, int total);
    }

    /** Like {@link #evaluate(Path, Path, int, EngineOptions)}, reporting progress after every batch. */
    public static PerplexityResult evaluate(Path modelDir, Path jsonl, int seqLen, EngineOptions options, Progress progress) {
        int positions = LlamaConfig.read(modelDir.resolve(HfModelDir.CONFIG_FILE)).maxPositionEmbeddings();
        if (seqLen > positions) {
            throw new IllegalArgumentException("seqLen " + seqLen + " exceeds the model's max_position_embeddings "
                    + positions);
        }
        try (TextTokenizer tokenizer = TextTokenizer.load(modelDir);
                LlamaModel model = CheckpointLoader.load(modelDir, options)) {
            return evaluate(model, loadDataset(jsonl, tokenizer, seqLen), BlockMask.none(), 1, progress);
        }
    }

    /** Evaluates the chunks in batches of {@code batchSize} with {@code blocks} skipped. */
    public static PerplexityResult evaluate(LlamaModel model, TokenChunks data, BlockMask blocks, int batchSize) {
        return evaluate(model, data, blocks, batchSize, (done, total) -> { });
    }

    /** Like {@link #evaluate(LlamaModel, TokenChunks, BlockMask, int)}, reporting progress after every batch. */
    public static PerplexityResult evaluate(LlamaModel model, TokenChunks data, BlockMask blocks, int batchSize,
                                            Progress progress) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        }
        List<int[]> chunks = data.chunks();
        double nll = 0;
        for (int start = 0; start < chunks.size(); start += batchSize) {
            List<int[]> batch = chunks.subList(start, Math.min(chunks.size(), start + batchSize));
            int len = batch.get(0).length;
            long[][] ids = new long[batch.size()][];
            for (int i = 0; i < ids.length; i++) {
                if (batch.get(i).length != len) {
                    throw new IllegalArgumentException("chunks of one batch must have one length");
                }
                ids[i] = java.util.Arrays.stream(batch.get(i)).asLongStream().toArray();
            }
            try (NDManager m = model.manager().newSubManager()) {
                NDArray logps = LogProbs.tokenLogProbs(model, m.create(ids), null, blocks); // [batch, len-1]
                for (float lp : logps.toFloatArray()) {
                    nll -= lp;
                }
            }
            progress.chunks(start + batch.size(), chunks.size());
        }
        long tokens = data.predictedTokens();
        return new PerplexityResult(Math.exp(nll / tokens), tokens, nll, chunks.size());
    }

    /**
     * Reads a JSONL dataset: rows with {@code "text"} are joined with blank lines and tokenised once (with the
     * tokenizer's special tokens, e.g. one leading BOS); rows with {@code "input_ids"} are concatenated as given.
     * A file must use one kind of row. The stream is then cut into {@code seqLen} chunks.
     */
    public static TokenChunks loadDataset(Path jsonl, TextTokenizer tokenizer, int seqLen) {
        JsonMapper mapper = JsonMapper.builder().build();
        StringBuilder text = new StringBuilder();
        List<Integer> ids = new ArrayList<>();
        boolean sawText = false;
        boolean sawIds = false;
        try (BufferedReader reader = Files.newBufferedReader(jsonl)) {
            String line;
            int lineNo = 0;
            while ((line = reader.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                JsonNode row;
                try {
                    row = mapper.readTree(line);
                } catch (JacksonException e) {
                    throw new IllegalArgumentException(jsonl + " line " + lineNo + ": not JSON: " + e.getOriginalMessage());
                }
                if (row.path("text").isString()) {
                    text.append(sawText ? "\n\n" : "").append(row.path("text").asString());
                    sawText = true;
                } else if (row.path("input_ids").isArray()) {
                    for (JsonNode id : row.path("input_ids").values()) {
                        if (!id.isIntegralNumber()) {
                            throw new IllegalArgumentException(jsonl + " line " + lineNo + ": input_ids must be integers");
                        }
                        ids.add(id.asInt());
                    }
                    sawIds = true;
                } else {
                    throw new IllegalArgumentException(jsonl + " line " + lineNo + ": needs \"text\" or \"input_ids\"");
                }
                if (sawText && sawIds) {
                    throw new IllegalArgumentException(jsonl + " mixes \"text\" and \"input_ids\" rows");
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + jsonl, e);
        }
        int[] stream = sawText ? tokenizer.encode(text.toString(), true)
                : ids.stream().mapToInt(Integer::intValue).toArray();
        return TokenChunks.of(stream, seqLen);
    }
}
