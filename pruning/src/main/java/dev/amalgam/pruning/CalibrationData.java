package dev.amalgam.pruning;

import dev.amalgam.modelengine.eval.TokenChunks;
import dev.amalgam.modelengine.text.TextTokenizer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * BlockPruner's calibration set from a JSONL dataset artifact: {@code samples} rows drawn at random with
 * {@code seed} (all rows, in file order, when the file has no more), texts joined with blank lines and tokenised
 * once (or {@code input_ids} rows concatenated), cut into {@code seqLen}-token chunks with the remainder dropped.
 * The file is streamed twice (count, then pick), never held whole.
 *
 * <pre>{@code
 * TokenChunks chunks = CalibrationData.load(jsonl, () -> TextTokenizer.load(modelDir), 256, 2048, 42);
 * }</pre>
 */
public final class CalibrationData {

    private CalibrationData() {
    }

    /**
     * @param tokenizer opened only when the file has {@code text} rows; the caller closes what it returns
     */
    public static TokenChunks load(Path jsonl, Supplier<TextTokenizer> tokenizer, int samples, int seqLen, long seed) {
        int rows = countRows(jsonl);
        if (rows == 0) {
            throw new IllegalArgumentException(jsonl + " has no rows");
        }
        int[] picked = pick(rows, samples, seed);
        Map<Integer, Integer> slot = new HashMap<>();
        for (int i = 0; i < picked.length; i++) {
            slot.put(picked[i], i);
        }
        JsonNode[] chosen = new JsonNode[picked.length];
        JsonMapper mapper = JsonMapper.builder().build();
        try (BufferedReader reader = Files.newBufferedReader(jsonl)) {
            String line;
            int row = 0;
            int lineNo = 0;
            while ((line = reader.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                Integer s = slot.get(row++);
                if (s != null) {
                    try {
                        chosen[s] = mapper.readTree(line);
                    } catch (JacksonException e) {
                        throw new IllegalArgumentException(jsonl + " line " + lineNo + ": not JSON: "
                                + e.getOriginalMessage());
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + jsonl, e);
        }
        return chunks(jsonl, chosen, tokenizer, seqLen);
    }

    /**
     * Indices of {@code samples} of {@code rows} rows in draw order (a partial Fisher-Yates shuffle seeded with
     * {@code seed}); every row in file order when {@code samples >= rows}.
     */
    static int[] pick(int rows, int samples, long seed) {
        int[] all = new int[rows];
        Arrays.setAll(all, i -> i);
        if (samples >= rows) {
            return all;
        }
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < samples; i++) {
            int j = i + random.nextInt(rows - i);
            int t = all[i];
            all[i] = all[j];
            all[j] = t;
        }
        return Arrays.copyOf(all, samples);
    }

    private static TokenChunks chunks(Path jsonl, JsonNode[] rows, Supplier<TextTokenizer> tokenizer, int seqLen) {
        StringBuilder text = new StringBuilder();
        List<Integer> ids = new ArrayList<>();
        boolean sawText = false;
        for (JsonNode row : rows) {
            if (row.path("text").isString()) {
                text.append(sawText ? "\n\n" : "").append(row.path("text").asString());
                sawText = true;
            } else if (row.path("input_ids").isArray()) {
                for (JsonNode id : row.path("input_ids").values()) {
                    if (!id.isIntegralNumber()) {
                        throw new IllegalArgumentException(jsonl + ": input_ids must be integers, got " + id);
                    }
                    ids.add(id.asInt());
                }
            } else {
                throw new IllegalArgumentException(jsonl + ": every row needs \"text\" or \"input_ids\", got " + row);
            }
        }
        if (sawText && !ids.isEmpty()) {
            throw new IllegalArgumentException(jsonl + " mixes \"text\" and \"input_ids\" rows");
        }
        int[] stream;
        if (sawText) {
            stream = tokenizer.get().encode(text.toString(), true);
        } else {
            stream = ids.stream().mapToInt(Integer::intValue).toArray();
        }
        return TokenChunks.of(stream, seqLen);
    }

    private static int countRows(Path jsonl) {
        try (BufferedReader reader = Files.newBufferedReader(jsonl)) {
            int n = 0;
            String line;
            while ((line = reader.readLine()) != null) {
                if (!line.isBlank()) {
                    n++;
                }
            }
            return n;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + jsonl, e);
        }
    }
}
