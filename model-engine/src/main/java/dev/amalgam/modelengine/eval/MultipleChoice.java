package dev.amalgam.modelengine.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.amalgam.modelengine.BlockMask;
import dev.amalgam.modelengine.LlamaModel;
import dev.amalgam.modelengine.text.TextTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Zero-shot multiple-choice evaluation the way lm-evaluation-harness 0.4 scores {@code output_type:
 * multiple_choice} tasks with a Hugging Face causal LM ({@code HFLM}):
 *
 * <ol>
 *   <li>Each choice is one request (context, continuation). Whitespace at the end of the context is moved to the
 *       front of the continuation; the continuation's tokens are {@code encode(context + continuation)} minus the
 *       first {@code len(encode(context))} tokens ({@code _encode_pair}). An empty context becomes the prefix token
 *       (BOS, else EOS).</li>
 *   <li>The log-likelihood of a request is the sum over the continuation's tokens of log p(token | everything
 *       before it), from a forward over {@code (context + continuation)[-(maxLength + 1):][:-1]}: a sequence too
 *       long for the model loses tokens from the left ({@code _loglikelihood_tokens}).</li>
 *   <li>Requests are sorted by length, longest first, and run {@code batchSize} at a time, right-padded (causal
 *       attention: padding after a sequence cannot change it).</li>
 *   <li>Per document: {@code acc} = 1 when the argmax of the log-likelihoods is the gold index, {@code acc_norm}
 *       = the same for the log-likelihoods divided by each choice's length in characters (the first maximum wins,
 *       as {@code np.argmax}); per task each metric's mean and its standard error, the sample standard
 *       deviation over sqrt(n) ({@code mean_stderr}).</li>
 * </ol>
 *
 * <pre>{@code
 * List<MultipleChoiceDoc> docs = TaskFormat.PIQA.load(Path.of("piqa.jsonl"), 100);
 * TaskResult r = MultipleChoice.evaluate(model, MultipleChoice.Encoding.of(tokenizer), "piqa", TaskFormat.PIQA, docs,
 *         BlockMask.none(), 16, (done, total) -> { });
 * }</pre>
 */
public final class MultipleChoice {

    private MultipleChoice() {
    }

    /** Text to token ids, with or without the tokenizer's special tokens. */
    @FunctionalInterface
    public interface Encoder {
        int[] encode(String text, boolean addSpecialTokens);
    }

    /** Reports how many of a task's requests are scored. */
    @FunctionalInterface
    public interface Progress {
        void requests(int done, int total);
    }

    /** A request's tokens: the context and the continuation to score. */
    public record TokenPair(int[] context, int[] continuation) {
    }

    /**
     * How lm-eval's {@code HFLM.tok_encode} turns text into ids for a causal LM (0.4.9: the tokenizer's own special
     * tokens, e.g. Llama's BOS, unless the text already starts with the prefix token's text).
     *
     * @param encoder the tokenizer
     * @param addSpecialTokens whether the context gets the tokenizer's special tokens (lm-eval 0.4.9 and later:
     *                         yes; 0.4.0 to 0.4.8: no)
     * @param prefixTokenId the context of an empty context (lm-eval's {@code prefix_token_id}: BOS, else EOS)
     * @param prefixText the prefix token's text; a context starting with it is encoded without special tokens
     */
    public record Encoding(Encoder encoder, boolean addSpecialTokens, int prefixTokenId, String prefixText) {

        /** lm-eval 0.4.9's encoding with {@code tokenizer}. */
        public static Encoding of(TextTokenizer tokenizer) {
            return of(tokenizer, true);
        }

        /** The encoding with {@code tokenizer}, with or without its special tokens. */
        public static Encoding of(TextTokenizer tokenizer, boolean addSpecialTokens) {
            int prefix = tokenizer.bosTokenId().or(tokenizer::eosTokenId).orElseThrow(
                    () -> new IllegalArgumentException("the tokenizer has neither a BOS nor an EOS token"));
            return new Encoding(tokenizer::encode, addSpecialTokens, prefix, tokenizer.decode(new int[] {prefix}, false));
        }

        int[] encode(String text) {
            boolean special = addSpecialTokens && (prefixText == null || prefixText.isEmpty() || !text.startsWith(prefixText));
            return encoder.encode(text, special);
        }

        /** lm-eval's {@code loglikelihood} + {@code _encode_pair} for one request. */
        public TokenPair pair(String context, String continuation) {
            if (context.isEmpty()) {
                int[] cont = encoder.encode(continuation, false);
                if (cont.length > 0 && cont[0] == prefixTokenId) {
                    return new TokenPair(new int[] {cont[0]}, Arrays.copyOfRange(cont, 1, cont.length));
                }
                return new TokenPair(new int[] {prefixTokenId}, cont);
            }
            String ctx = PythonStrings.rstrip(context);
            String cont = context.substring(ctx.length()) + continuation; // trailing whitespace moves to the continuation
            int[] whole = encode(ctx + cont);
            int[] contextIds = encode(ctx);
            return new TokenPair(contextIds, Arrays.copyOfRange(whole, Math.min(contextIds.length, whole.length), whole.length));
        }
    }

    /** The scores of one document. */
    public record DocScore(double[] logLikelihoods, int pred, int predNorm, boolean acc, boolean accNorm) {
    }

    /**
     * Scores {@code docs}: the log-likelihood of every choice (batched forwards), then acc and acc_norm per document
     * and their means with standard errors.
     *
     * @param name the task's name in the result
     * @param batchSize requests per forward
     */
    public static TaskResult evaluate(LlamaModel model, Encoding encoding, String name, TaskFormat format,
            List<MultipleChoiceDoc> docs, BlockMask blocks, int batchSize, Progress progress) {
        List<TokenPair> pairs = new ArrayList<>();
        for (int d = 0; d < docs.size(); d++) {
            for (MultipleChoiceDoc.Request r : docs.get(d).requests()) {
                TokenPair p = encoding.pair(r.context(), r.continuation());
                if (p.continuation().length == 0) {
                    throw new IllegalArgumentException(name + " document " + (d + 1) + ": the continuation '"
                            + r.continuation() + "' encodes to no tokens");
                }
                pairs.add(p);
            }
        }
        double[] lls = logLikelihoods(model, pairs, blocks, batchSize, model.config().maxPositionEmbeddings(), progress);
        List<DocScore> scores = new ArrayList<>();
        int at = 0;
        for (MultipleChoiceDoc doc : docs) {
            int n = doc.choices().size();
            scores.add(score(doc, Arrays.copyOfRange(lls, at, at + n)));
            at += n;
        }
        return TaskResult.of(name, format.id(), format.hasAccNorm(), scores);
    }

    /** acc and acc_norm of one document from its choices' log-likelihoods (lm-eval's {@code process_results}). */
    public static DocScore score(MultipleChoiceDoc doc, double[] logLikelihoods) {
        int n = doc.choices().size();
        if (logLikelihoods.length != n) {
            throw new IllegalArgumentException(logLikelihoods.length + " log-likelihoods for " + n + " choices");
        }
        double[] normed = new double[n];
        for (int i = 0; i < n; i++) {
            normed[i] = logLikelihoods[i] / PythonStrings.len(doc.choices().get(i));
        }
        int pred = argmax(logLikelihoods);
        int predNorm = argmax(normed);
        return new DocScore(logLikelihoods.clone(), pred, predNorm, pred == doc.gold(), predNorm == doc.gold());
    }

    /** {@code np.argmax}: the first maximum; a NaN counts as the maximum (numpy propagates it). */
    static int argmax(double[] v) {
        int best = 0;
        for (int i = 0; i < v.length; i++) {
            if (Double.isNaN(v[i])) {
                return i;
            }
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    /**
     * The summed log-likelihood of each pair's continuation given its context, in {@code pairs}' order. Pairs are run
     * longest first, {@code batchSize} per forward, right-padded; each sequence keeps its last {@code maxLength + 1}
     * tokens and the forward sees all but the last of them.
     *
     * @throws IllegalArgumentException when a continuation is empty or longer than {@code maxLength}
     */
    public static double[] logLikelihoods(LlamaModel model, List<TokenPair> pairs, BlockMask blocks, int batchSize,
            int maxLength, Progress progress) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        }
        int n = pairs.size();
        int[][] inputs = new int[n][];
        int[] contLens = new int[n];
        for (int i = 0; i < n; i++) {
            TokenPair p = pairs.get(i);
            int cont = p.continuation().length;
            if (cont == 0 || cont > maxLength) {
                throw new IllegalArgumentException("request " + i + ": the continuation has " + cont
                        + " tokens; it needs 1 to " + maxLength + " (the model's max length)");
            }
            if (p.context().length == 0) {
                throw new IllegalArgumentException("request " + i + ": the context has no tokens");
            }
            int[] whole = new int[p.context().length + cont];
            System.arraycopy(p.context(), 0, whole, 0, p.context().length);
            System.arraycopy(p.continuation(), 0, whole, p.context().length, cont);
            // lm-eval: (context_enc + continuation_enc)[-(max_length + 1):][:-1]
            int from = Math.max(0, whole.length - (maxLength + 1));
            inputs[i] = Arrays.copyOfRange(whole, from, whole.length);
            contLens[i] = cont;
        }
        // longest first: padding stays small, and the first batch shows at once whether memory suffices
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingInt((Integer i) -> -inputs[i].length));
        double[] out = new double[n];
        for (int start = 0; start < n; start += batchSize) {
            int b = Math.min(batchSize, n - start);
            int len = inputs[order[start]].length - 1; // the forward's width: the longest input less its last token
            long[][] ids = new long[b][len];
            long[][] mask = new long[b][len];
            for (int r = 0; r < b; r++) {
                int[] seq = inputs[order[start + r]];
                for (int t = 0; t < seq.length - 1; t++) {
                    ids[r][t] = seq[t];
                    mask[r][t] = 1;
                }
            }
            try (NDManager m = model.manager().newSubManager()) {
                NDArray hidden = model.forward(m.create(ids), m.create(mask), blocks, null, false, len)
                        .lastHiddenState(); // [b, len, hidden]; no head yet
                for (int r = 0; r < b; r++) {
                    int i = order[start + r];
                    int[] seq = inputs[i];
                    int inLen = seq.length - 1;
                    int cont = contLens[i];
                    // positions inLen - cont .. inLen - 1 predict the continuation's tokens
                    NDArray logits = model.head(hidden.get(new NDIndex("{}:{}, {}:{}", r, r + 1, inLen - cont, inLen)));
                    long[] targets = new long[cont];
                    for (int t = 0; t < cont; t++) {
                        targets[t] = seq[seq.length - cont + t];
                    }
                    NDArray target = m.create(targets, new Shape(1, cont, 1)).toDevice(logits.getDevice(), false);
                    NDArray picked = logits.logSoftmax(-1).gather(target.toType(DataType.INT64, false), 2);
                    double sum = 0;
                    for (float lp : picked.toType(DataType.FLOAT32, false).toFloatArray()) {
                        sum += lp;
                    }
                    out[i] = sum;
                }
            }
            progress.requests(start + b, n);
        }
        return out;
    }
}
