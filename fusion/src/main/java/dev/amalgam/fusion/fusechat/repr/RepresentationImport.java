package dev.amalgam.fusion.fusechat.repr;

import dev.amalgam.fusion.data.JsonLines;
import dev.amalgam.fusion.fusechat.FuseChatObjective;
import dev.amalgam.fusion.fusechat.align.TopK;
import dev.amalgam.job.Progress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * Converts representations computed elsewhere (a source the engine cannot run, e.g. a vLLM server's
 * {@code prompt_logprobs}) into the representation dataset format. One JSON object per line:
 *
 * <pre>{@code
 * {"id": "s1",
 *  "tokens": ["<s>", "<|user|>", ...],          raw token strings (convert_ids_to_tokens) of the sequence
 *  "input_ids": [1, 32001, ...],                 optional instead of or beside tokens (then both must agree)
 *  "labels": [-100, -100, 5, ...],               optional: -100 or the token id; default every token but the first
 *  "prompt_logprobs": [null, [["<|user|>", -0.1], [13, -2.5], ...], ...]}
 * }</pre>
 *
 * {@code prompt_logprobs[i]} is the model's distribution over token i given the tokens before it, as a list of
 * [token, log-prob] pairs (a token is a raw string or an id), in vLLM's order: entry 0 is null. At a learned
 * position the list must hold the actual token i (vLLM always adds it). Stored at position i - 1 are the k
 * largest of entry i (log-probs stand for logits: a softmax over the top-k is the same for both, they differ by
 * the log-normaliser only); the last position has no entry, so its slots are unused. metric_ce is the mean of
 * -log p(token i) over the learned i, as on the engine.
 */
public final class RepresentationImport {

    private RepresentationImport() {
    }

    /**
     * Converts {@code jsonl} into a dataset in {@code outDir}, resolving token strings with the tokenizer of
     * {@code tokenizerDir} (its {@code tokenizer.json}).
     */
    public static RepresentationSummary convert(Path jsonl, Path tokenizerDir, int k, Path outDir, Progress progress) {
        return convert(jsonl, tokenizerDir, tokenizerDir.getFileName().toString(), k, outDir, progress);
    }

    /** Like {@link #convert(Path, Path, int, Path, Progress)}, with the model's name for {@code meta.json}. */
    public static RepresentationSummary convert(Path jsonl, Path tokenizerDir, String modelName, int k, Path outDir,
                                                Progress progress) {
        if (k < 1 || k > RepresentationSettings.MAX_TOP_K) {
            throw new IllegalArgumentException("topK must be in [1, " + RepresentationSettings.MAX_TOP_K + "], got " + k);
        }
        TokenizerVocabulary vocab = TokenizerVocabulary.read(tokenizerDir);
        long total = ChatCorpus.count(jsonl);
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("source", "import");
        info.put("model", modelName);
        ModelRepresentations.Stats stats = new ModelRepresentations.Stats();
        try (RepresentationWriter writer = RepresentationWriter.create(outDir, k, vocab.size(), info)) {
            long[] index = {0};
            JsonLines.read(jsonl, row -> {
                progress.throwIfCancelled();
                SampleRepresentation s = sample(row, index[0]++, vocab, k);
                writer.write(s);
                stats.add(s.metricCe());
                progress.progress(index[0] / (double) total, "imported " + index[0] + " of " + total + " samples");
            });
            writer.finish();
            return stats.summary(writer, k, vocab.size());
        }
    }

    /** One line's sample. */
    static SampleRepresentation sample(JsonNode row, long index, TokenizerVocabulary vocab, int k) {
        if (!row.isObject()) {
            throw new IllegalArgumentException("a sample must be a JSON object");
        }
        JsonNode idNode = row.path("id");
        if (!idNode.isMissingNode() && !idNode.isString() && !idNode.isIntegralNumber()) {
            throw new IllegalArgumentException("id must be a string or an integer, got " + idNode);
        }
        String id = idNode.isMissingNode() || idNode.isNull() ? String.valueOf(index) : idNode.asString();
        String where = "sample " + id + ": ";
        int[] ids = null;
        if (row.has("tokens")) {
            JsonNode tokens = row.path("tokens");
            if (!tokens.isArray()) {
                throw new IllegalArgumentException(where + "tokens must be an array of strings");
            }
            ids = new int[tokens.size()];
            for (int i = 0; i < ids.length; i++) {
                if (!tokens.get(i).isString()) {
                    throw new IllegalArgumentException(where + "tokens[" + i + "] is not a string");
                }
                ids[i] = tokenId(tokens.get(i).asString(), vocab, where + "tokens[" + i + "]");
            }
        }
        if (row.has("input_ids")) {
            int[] given = ints(row.path("input_ids"), where + "input_ids");
            for (int i = 0; i < given.length; i++) {
                if (given[i] < 0 || given[i] >= vocab.size()) {
                    throw new IllegalArgumentException(where + "input_ids[" + i + "] = " + given[i]
                            + " is outside the vocabulary [0, " + vocab.size() + ")");
                }
            }
            if (ids != null && !Arrays.equals(ids, given)) {
                throw new IllegalArgumentException(where + "tokens and input_ids name different tokens");
            }
            ids = given;
        }
        if (ids == null || ids.length == 0) {
            throw new IllegalArgumentException(where + "needs a non-empty \"tokens\" or \"input_ids\"");
        }
        int n = ids.length;
        int[] labels;
        if (row.has("labels")) {
            labels = ints(row.path("labels"), where + "labels");
            if (labels.length != n) {
                throw new IllegalArgumentException(where + labels.length + " labels for " + n + " tokens");
            }
        } else {
            labels = ids.clone();
            labels[0] = FuseChatObjective.IGNORE_INDEX;
        }
        JsonNode logprobs = row.path("prompt_logprobs");
        if (!logprobs.isArray() || logprobs.size() != n) {
            throw new IllegalArgumentException(where + "prompt_logprobs must be an array with one entry per token ("
                    + n + ")");
        }
        List<TopK> rows = new ArrayList<>(n);
        double sum = 0;
        int learned = 0;
        for (int i = 1; i < n; i++) {
            JsonNode entry = logprobs.get(i);
            String at = where + "prompt_logprobs[" + i + "]";
            if (!entry.isArray() || entry.isEmpty()) {
                throw new IllegalArgumentException(at + " must be a non-empty array of [token, logprob] pairs");
            }
            int[] entryIds = new int[entry.size()];
            float[] entryLps = new float[entry.size()];
            Set<Integer> seen = new HashSet<>();
            double gold = Double.NaN;
            for (int j = 0; j < entry.size(); j++) {
                JsonNode pair = entry.get(j);
                if (!pair.isArray() || pair.size() != 2 || !pair.get(1).isNumber()) {
                    throw new IllegalArgumentException(at + "[" + j + "] must be [token, logprob]");
                }
                JsonNode token = pair.get(0);
                int tid;
                if (token.isIntegralNumber()) {
                    tid = token.asInt();
                    if (tid < 0 || tid >= vocab.size()) {
                        throw new IllegalArgumentException(at + "[" + j + "]: id " + tid
                                + " is outside the vocabulary [0, " + vocab.size() + ")");
                    }
                } else if (token.isString()) {
                    tid = tokenId(token.asString(), vocab, at + "[" + j + "]");
                } else {
                    throw new IllegalArgumentException(at + "[" + j + "]: the token must be a string or an id");
                }
                double lp = pair.get(1).asDouble();
                if (!Double.isFinite(lp) || lp > 1e-4) {
                    throw new IllegalArgumentException(at + "[" + j + "]: log-prob " + lp + " is not a finite value <= 0");
                }
                if (!seen.add(tid)) {
                    throw new IllegalArgumentException(at + " lists token " + tid + " twice");
                }
                entryIds[j] = tid;
                entryLps[j] = (float) lp;
                if (tid == ids[i]) {
                    gold = lp;
                }
            }
            if (labels[i] != FuseChatObjective.IGNORE_INDEX) {
                if (Double.isNaN(gold)) {
                    throw new IllegalArgumentException(at + " lacks the log-prob of the token itself (" + ids[i]
                            + "), which metric_ce needs at a learned position");
                }
                sum -= gold;
                learned++;
            }
            rows.add(largest(entryIds, entryLps, k));
        }
        if (!logprobs.get(0).isNull() && !(logprobs.get(0).isArray() && logprobs.get(0).isEmpty())) {
            throw new IllegalArgumentException(where + "prompt_logprobs[0] must be null (nothing predicts the first token)");
        }
        rows.add(TopK.empty()); // the last position predicts past the sequence
        TokenizedSample tokens = new TokenizedSample(id, ids, labels);
        return SampleRepresentation.of(tokens, learned == 0 ? Double.NaN : sum / learned, k, rows);
    }

    /** The k largest entries, descending, the lower id first on ties. */
    private static TopK largest(int[] ids, float[] lps, int k) {
        Integer[] order = new Integer[ids.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> lps[a] != lps[b] ? Float.compare(lps[b], lps[a]) : Integer.compare(ids[a], ids[b]));
        int n = Math.min(k, ids.length);
        int[] outIds = new int[n];
        float[] outLps = new float[n];
        for (int i = 0; i < n; i++) {
            outIds[i] = ids[order[i]];
            outLps[i] = lps[order[i]];
        }
        return new TopK(outIds, outLps);
    }

    private static int tokenId(String token, TokenizerVocabulary vocab, String where) {
        int id = vocab.id(token);
        if (id < 0) {
            throw new IllegalArgumentException(where + ": \"" + token + "\" is not a token of the tokenizer");
        }
        return id;
    }

    private static int[] ints(JsonNode node, String where) {
        if (!node.isArray()) {
            throw new IllegalArgumentException(where + " must be an array of integers");
        }
        int[] out = new int[node.size()];
        for (int i = 0; i < out.length; i++) {
            if (!node.get(i).isIntegralNumber()) {
                throw new IllegalArgumentException(where + "[" + i + "] is not an integer");
            }
            out[i] = node.get(i).asInt();
        }
        return out;
    }
}
