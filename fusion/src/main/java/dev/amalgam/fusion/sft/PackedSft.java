package dev.amalgam.fusion.sft;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.amalgam.fusion.train.MicroObjective;
import dev.amalgam.modelengine.BlockMask;
import dev.amalgam.modelengine.LlamaModel;
import dev.amalgam.modelengine.LogProbs;
import dev.amalgam.modelengine.OwnedArrays;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * The target-SFT stage of WRPO: plain causal-LM loss on the best source responses with packing, as the reference
 * (TRL's SFTTrainer with {@code packing=True}): the tokenised conversations (prompt and answer, chat template
 * included) are shuffled with the seed, concatenated, and cut into chunks of {@code maxLength} tokens; every token of
 * a chunk is a target. A final chunk shorter than {@code maxLength} is kept (small datasets would otherwise have none)
 * and padded in its micro-batch. The loss of a step is the mean negative log-likelihood over its predicted tokens.
 */
public final class PackedSft implements MicroObjective<int[]> {

    private final List<int[]> chunks;
    private long stepTokens = 1;
    private double lossSum;
    private long tokenCount;

    private PackedSft(List<int[]> chunks) {
        this.chunks = chunks;
    }

    /** Packs {@code conversations} into chunks of at most {@code maxLength} tokens. */
    public static PackedSft pack(List<int[]> conversations, int maxLength, long seed) {
        List<int[]> shuffled = new ArrayList<>(conversations);
        java.util.Collections.shuffle(shuffled, new Random(seed));
        int total = shuffled.stream().mapToInt(a -> a.length).sum();
        int[] stream = new int[total];
        int pos = 0;
        for (int[] c : shuffled) {
            System.arraycopy(c, 0, stream, pos, c.length);
            pos += c.length;
        }
        List<int[]> chunks = new ArrayList<>();
        for (int from = 0; from < total; from += maxLength) {
            int[] chunk = Arrays.copyOfRange(stream, from, Math.min(total, from + maxLength));
            if (chunk.length >= 2) { // a chunk needs one prediction at least
                chunks.add(chunk);
            }
        }
        if (chunks.isEmpty()) {
            throw new IllegalArgumentException("SFT data has no conversation of two tokens or more");
        }
        return new PackedSft(chunks);
    }

    public List<int[]> chunks() {
        return chunks;
    }

    /** Sets the number of predicted tokens of the coming optimizer step (its chunks' lengths minus one each). */
    public void prepare(List<int[]> stepMicroBatches) {
        long n = 0;
        for (int[] mb : stepMicroBatches) {
            for (int i : mb) {
                n += chunks.get(i).length - 1;
            }
        }
        stepTokens = Math.max(1, n);
        lossSum = 0;
        tokenCount = 0;
    }

    /** Mean NLL per predicted token of the step so far. */
    public double meanLoss() {
        return lossSum / Math.max(1, tokenCount);
    }

    @Override
    public NDArray loss(LlamaModel model, int[] indices, NDManager scope) {
        int len = 0;
        for (int i : indices) {
            len = Math.max(len, chunks.get(i).length);
        }
        long[][] ids = new long[indices.length][len];
        long[][] mask = new long[indices.length][len];
        float[][] weight = new float[indices.length][len - 1];
        long tokens = 0;
        for (int b = 0; b < indices.length; b++) {
            int[] c = chunks.get(indices[b]);
            for (int t = 0; t < c.length; t++) {
                ids[b][t] = c[t];
                mask[b][t] = 1;
                if (t > 0) {
                    weight[b][t - 1] = 1;
                    tokens++;
                }
            }
        }
        NDArray lp = LogProbs.tokenLogProbs(model, scope.create(ids), scope.create(mask), BlockMask.none());
        NDArray nll = lp.mul(scope.create(weight)).sum().neg(); // summed over real targets
        lossSum += nll.getFloat();
        tokenCount += tokens;
        return OwnedArrays.div(nll, stepTokens); // div keeps its divisor for backward
    }
}
