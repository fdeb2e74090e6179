package dev.amalgam.modelengine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
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

    private LogProbs() {
    }

    /**
     * log p(ids[b, t+1] | ids[b, <= t]) from logits: [batch, seq, vocab] logits and [batch, seq] ids give
     * [batch, seq - 1] FP32, attached to the manager of {@code logits}.
     */
    public static NDArray fromLogits(NDArray logits, NDArray ids) {
        long seq = logits.getShape().get(1);
        NDArray targets = ids.get(":, 1:").toType(DataType.INT64, false).toDevice(logits.getDevice(), false)
                .reshape(ids.getShape().get(0), seq - 1, 1); // [batch, seq-1, 1]
        targets.attach(logits.getManager());
        NDArray logp = logits.get(":, :-1, :").logSoftmax(-1); // [batch, seq-1, vocab]
        return logp.gather(targets, 2).squeeze(2); // [batch, seq-1]
    }

    /** Per-token log-probs [batch, seq - 1] of a (possibly padded) batch; padded targets are not masked here. */
    public static NDArray tokenLogProbs(LlamaModel model, NDArray ids, NDArray attentionMask, BlockMask blocks) {
        NDArray logits = model.logits(ids, attentionMask, blocks);
        NDArray out = fromLogits(logits, ids);
        logits.close();
        return out;
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
        try (NDManager scratch = manager.newSubManager()) {
            NDArray idArray = scratch.create(ids);
            NDArray tokenLogps = tokenLogProbs(model, idArray, scratch.create(mask), blocks); // [batch, len-1]
            NDArray w = scratch.create(weight).toDevice(tokenLogps.getDevice(), false);
            NDArray sums = tokenLogps.mul(w).sum(new int[] {1}); // [batch]
            sums.attach(manager);
            return sums;
        }
    }
}
