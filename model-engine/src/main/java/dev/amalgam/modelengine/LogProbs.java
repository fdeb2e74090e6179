package dev.amalgam.modelengine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import java.util.List;

/**
 * Log-probabilities of tokens under a model: per token, and summed over a response given its prompt (the quantity
 * DPO-style losses such as WRPO use, without length normalisation). Everything stays in the autograd graph, so
 * inside a {@code GradientCollector} the sums back-propagate into the weights.
 *
 * <pre>{@code
 * NDArray logps = LogProbs.sequenceLogProbs(model, prompts, responses, BlockMask.none(), manager); // [batch]
 * }</pre>
 */
public final class LogProbs {

    /** Positions per head evaluation when computing log-probs. */
    public static final int HEAD_SLICE = 512;

    private LogProbs() {
    }

    /**
     * log p(ids[b, t+1] | ids[b, <= t]) from logits: [batch, seq, vocab] logits and [batch, seq] ids give
     * [batch, seq - 1] FP32, attached to the manager of {@code logits}.
     */
    public static NDArray fromLogits(NDArray logits, NDArray ids) {
        return fromLogits(logits, ids, 0);
    }

    /**
     * As {@link #fromLogits(NDArray, NDArray)} for logits of positions {@code [from, seq)} only: returns
     * [batch, seq - 1 - from], the log-probs of tokens {@code from + 1 .. seq - 1}.
     */
    public static NDArray fromLogits(NDArray logits, NDArray ids, long from) {
        long batch = ids.getShape().get(0);
        long seq = ids.getShape().get(1);
        if (logits.getShape().get(1) != seq - from) {
            throw new IllegalArgumentException("logits cover " + logits.getShape().get(1) + " positions, expected "
                    + (seq - from));
        }
        NDArray targets; // [batch, seq-1-from, 1]
        try (NDArray view = ids.get(new NDIndex(":, {}:", from + 1)).toType(DataType.INT64, false)
                .toDevice(logits.getDevice(), false).reshape(batch, seq - 1 - from, 1)) {
            // a PyTorch-owned copy: gather keeps its index for backward, and the caller may close ids before that
            targets = view.duplicate();
        }
        targets.attach(logits.getManager());
        NDArray logp = logits.get(":, :-1, :").logSoftmax(-1); // [batch, seq-1-from, vocab]
        return logp.gather(targets, 2).squeeze(2); // [batch, seq-1-from]
    }

    /** Per-token log-probs [batch, seq - 1] of a (possibly padded) batch; padded targets are not masked here. */
    public static NDArray tokenLogProbs(LlamaModel model, NDArray ids, NDArray attentionMask, BlockMask blocks) {
        return tokenLogProbs(model, ids, attentionMask, blocks, 0);
    }

    /**
     * Log-probs [batch, seq - 1 - from] of tokens {@code from + 1 .. seq - 1}. The head runs on slices of
     * {@value #HEAD_SLICE} positions, so a large vocabulary never needs the [batch, seq, vocab] logits at once.
     * The result is attached to the manager of {@code ids}.
     */
    public static NDArray tokenLogProbs(LlamaModel model, NDArray ids, NDArray attentionMask, BlockMask blocks,
            long from) {
        long seq = ids.getShape().get(1);
        if (from < 0 || from >= seq - 1) {
            throw new IllegalArgumentException("from must be in [0, " + (seq - 1) + "), got " + from);
        }
        NDManager caller = ids.getManager();
        try (NDManager scratch = caller.newSubManager()) {
            NDArray hidden = model.forward(ids, attentionMask, blocks, null, false, seq).lastHiddenState(); // [b, seq, h]
            hidden.attach(scratch);
            NDArray targets;
            try (NDArray wide = ids.toType(DataType.INT64, true).toDevice(hidden.getDevice(), false)) {
                // a PyTorch-owned copy (toType shares an INT64 array's memory): gather keeps it for backward
                targets = wide.duplicate();
            }
            targets.attach(scratch);
            NDList parts = new NDList();
            for (long start = from; start < seq - 1; start += HEAD_SLICE) {
                long end = Math.min(seq - 1, start + HEAD_SLICE);
                NDArray logits = model.head(hidden.get(new NDIndex(":, {}:{}", start, end))); // [b, end-start, vocab]
                NDArray logp = logits.logSoftmax(-1);
                NDArray next = targets.get(new NDIndex(":, {}:{}", start + 1, end + 1)).expandDims(2); // [b, end-start, 1]
                parts.add(logp.gather(next, 2).squeeze(2)); // [b, end-start]
                logits.close(); // autograd keeps what backward needs
                logp.close();
            }
            NDArray out = parts.size() == 1 ? parts.head() : NDArrays.concat(parts, 1);
            out.attach(caller);
            return out;
        }
    }

    /**
     * Sum over each response's tokens of log p(response token | prompt, earlier response tokens), for a batch of
     * (prompt, response) pairs run right-padded in one forward. Returns [batch] FP32 on {@code manager}.
     */
    public static NDArray sequenceLogProbs(LlamaModel model, List<int[]> prompts, List<int[]> responses,
            BlockMask blocks, NDManager manager) {
        if (prompts.size() != responses.size() || prompts.isEmpty()) {
            throw new IllegalArgumentException("need as many prompts as responses, at least one");
        }
        int batch = prompts.size();
        int len = 0;
        for (int i = 0; i < batch; i++) {
            if (prompts.get(i).length == 0) {
                throw new IllegalArgumentException("prompt " + i + " is empty: the first response token needs context");
            }
            len = Math.max(len, prompts.get(i).length + responses.get(i).length);
        }
        long[][] ids = new long[batch][len];
        long[][] mask = new long[batch][len];
        float[][] weight = new float[batch][len - 1]; // 1 where target t + 1 is a response token
        for (int i = 0; i < batch; i++) {
            int p = prompts.get(i).length;
            int r = responses.get(i).length;
            for (int t = 0; t < p + r; t++) {
                ids[i][t] = t < p ? prompts.get(i)[t] : responses.get(i)[t - p];
                mask[i][t] = 1;
            }
            for (int t = p - 1; t < p + r - 1; t++) {
                weight[i][t] = 1;
            }
        }
        // The head runs only from the first position that predicts a response token (prompts are usually long).
        int from = Integer.MAX_VALUE;
        for (int[] p : prompts) {
            from = Math.min(from, p.length - 1);
        }
        if (from >= len - 1) {
            return manager.zeros(new ai.djl.ndarray.types.Shape(batch)); // every response is empty
        }
        float[][] tailWeight = new float[batch][];
        for (int i = 0; i < batch; i++) {
            tailWeight[i] = java.util.Arrays.copyOfRange(weight[i], from, len - 1);
        }
        try (NDManager scratch = manager.newSubManager()) {
            NDArray idArray = scratch.create(ids);
            NDArray tokenLogps = tokenLogProbs(model, idArray, scratch.create(mask), blocks, from); // [batch, len-1-from]
            // PyTorch-owned: mul keeps w for backward, after this scope has closed
            NDArray w = OwnedArrays.own(scratch.create(tailWeight)).toDevice(tokenLogps.getDevice(), false);
            NDArray sums = tokenLogps.mul(w).sum(new int[] {1}); // [batch]
            sums.attach(manager);
            return sums;
        }
    }
}
