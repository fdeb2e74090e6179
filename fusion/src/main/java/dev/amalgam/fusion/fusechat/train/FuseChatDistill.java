package dev.amalgam.fusion.fusechat.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import dev.amalgam.fusion.fusechat.FuseChatObjective;
import dev.amalgam.fusion.fusechat.FuseLossType;
import dev.amalgam.fusion.fusechat.SparseDistribution;
import dev.amalgam.fusion.train.MicroObjective;
import dev.amalgam.modelengine.BlockMask;
import dev.amalgam.modelengine.LlamaModel;
import dev.amalgam.modelengine.LogProbs;
import dev.amalgam.modelengine.OwnedArrays;
import java.util.ArrayList;
import java.util.List;

/**
 * FuseChat's training objective ({@link FuseChatObjective}) in the autograd graph, as a {@link MicroObjective} over
 * micro-batches of {@link FuseChatExample}s (example indices):
 * <pre>
 *   L_mb = lambda * L_clm + (1 - lambda) * L_fuse      (token means over the micro-batch, as the authors' model loss)
 *   step loss = mean over the step's micro-batches of L_mb   (the Hugging Face Trainer divides by gradient_accumulation_steps)
 * </pre>
 * The head runs on slices of {@link LogProbs#HEAD_SLICE} positions, so the [batch, seq, vocab] log-probs never exist
 * at once; the fusion term gathers the log-probs of each target's few ids. KL adds the targets' negative entropy,
 * a constant (no gradient). {@link #prepare} sets lambda and the step's micro-batch count before each step.
 */
public final class FuseChatDistill implements MicroObjective<int[]> {

    private final List<FuseChatExample> examples;
    private final FuseLossType type;
    private double lambda;
    private int microBatches = 1;
    private double clmSum;
    private double fuseSum;
    private int seen;

    public FuseChatDistill(List<FuseChatExample> examples, FuseLossType type) {
        this.examples = List.copyOf(examples);
        this.type = type;
    }

    /** Before each optimizer step: its micro-batches and lambda. */
    public void prepare(List<int[]> stepMicroBatches, double lambda) {
        if (!(lambda >= 0 && lambda <= 1)) {
            throw new IllegalArgumentException("lambda must be in [0, 1], got " + lambda);
        }
        this.lambda = lambda;
        this.microBatches = Math.max(1, stepMicroBatches.size());
        clmSum = 0;
        fuseSum = 0;
        seen = 0;
    }

    /** The step's language-modelling term so far (mean over its micro-batches). */
    public double clmLoss() {
        return clmSum / Math.max(1, seen);
    }

    /** The step's fusion term so far (mean over its micro-batches; CE or KL). */
    public double distillLoss() {
        return fuseSum / Math.max(1, seen);
    }

    @Override
    public NDArray loss(LlamaModel model, int[] indices, NDManager scope) {
        List<FuseChatExample> batch = new ArrayList<>(indices.length);
        int len = 0;
        for (int i : indices) {
            batch.add(examples.get(i));
            len = Math.max(len, examples.get(i).length());
        }
        long[][] ids = new long[batch.size()][len];
        long[][] mask = new long[batch.size()][len];
        int[][] labels = new int[batch.size()][len];
        List<List<SparseDistribution>> targets = new ArrayList<>();
        for (int b = 0; b < batch.size(); b++) {
            FuseChatExample e = batch.get(b);
            java.util.Arrays.fill(labels[b], FuseChatObjective.IGNORE_INDEX);
            List<SparseDistribution> q = new ArrayList<>(java.util.Collections.nCopies(len, (SparseDistribution) null));
            for (int t = 0; t < e.length(); t++) {
                ids[b][t] = e.inputIds()[t];
                mask[b][t] = 1;
                labels[b][t] = e.labels()[t];
                q.set(t, e.targets().get(t));
            }
            targets.add(q);
        }
        Terms terms;
        try (NDManager scratch = scope.newSubManager()) {
            NDArray idArray = scratch.create(ids);
            NDArray hidden = model.forward(idArray, scratch.create(mask), BlockMask.none(), null, false, len)
                    .lastHiddenState();
            hidden.attach(scratch);
            terms = new Terms(null, null, 0, 0);
            for (int start = 0; start < len - 1; start += LogProbs.HEAD_SLICE) {
                int end = Math.min(len - 1, start + LogProbs.HEAD_SLICE);
                NDArray logits = model.head(hidden.get(new NDIndex(":, {}:{}", start, end)));
                terms = terms.plus(sums(logits, labels, targets, start));
                logits.close(); // autograd keeps what backward needs
            }
            if (terms.tokens == 0) {
                throw new IllegalArgumentException("micro-batch " + java.util.Arrays.toString(indices)
                        + " has no learned position");
            }
            terms.clm.attach(scope);
            terms.fuse.attach(scope);
        }
        NDArray total = mean(terms, lambda);
        clmSum += terms.clm.getFloat() / terms.tokens;
        fuseSum += (terms.fuse.getFloat() + terms.negEntropy * (type == FuseLossType.KL ? 1 : 0)) / terms.tokens;
        seen++;
        if (type == FuseLossType.KL) {
            total = OwnedArrays.add(total, (float) ((1 - lambda) * terms.negEntropy / terms.tokens));
        }
        return OwnedArrays.div(total, (float) microBatches);
    }

    /**
     * {@link FuseChatObjective#loss} of one batch on logits [B, T, V] in the autograd graph (for tests and callers
     * that hold the logits): labels [B][T] unshifted, targets [B][T] (null where not learned).
     */
    public static NDArray loss(NDArray logits, int[][] labels, List<List<SparseDistribution>> targets, double lambda,
                               FuseLossType type) {
        long seq = logits.getShape().get(1);
        Terms t = sums(logits.get(new NDIndex(":, :{}", seq - 1)), labels, targets, 0);
        if (t.tokens == 0) {
            throw new IllegalArgumentException("the batch has no learned position");
        }
        NDArray total = mean(t, lambda);
        return type == FuseLossType.KL ? OwnedArrays.add(total, (float) ((1 - lambda) * t.negEntropy / t.tokens)) : total;
    }

    private static NDArray mean(Terms t, double lambda) {
        NDArray weighted = OwnedArrays.mul(t.clm, (float) lambda).add(OwnedArrays.mul(t.fuse, (float) (1 - lambda)));
        return OwnedArrays.div(weighted, (float) t.tokens);
    }

    /**
     * Summed CLM NLL and summed fusion CE over the positions of {@code logits} [B, s, V], which are positions
     * {@code from .. from + s - 1} of the batch; with the targets' summed q log q and the count of learned positions.
     */
    private static Terms sums(NDArray logits, int[][] labels, List<List<SparseDistribution>> targets, int from) {
        int batch = (int) logits.getShape().get(0);
        int s = (int) logits.getShape().get(1);
        int width = (int) logits.getShape().get(2);
        int k = 1;
        for (int b = 0; b < batch; b++) {
            for (int t = from; t < from + s; t++) {
                SparseDistribution q = targets.get(b).get(t);
                if (labels[b][t + 1] != FuseChatObjective.IGNORE_INDEX && q != null) {
                    k = Math.max(k, q.size());
                }
            }
        }
        long[] gold = new long[batch * s];
        float[] goldWeight = new float[batch * s];
        long[] ids = new long[batch * s * k];
        float[] probs = new float[batch * s * k];
        long tokens = 0;
        double negEntropy = 0;
        for (int b = 0; b < batch; b++) {
            for (int t = from; t < from + s; t++) {
                int y = labels[b][t + 1];
                if (y == FuseChatObjective.IGNORE_INDEX) {
                    continue;
                }
                int row = b * s + (t - from);
                SparseDistribution q = targets.get(b).get(t);
                if (q == null) {
                    throw new IllegalArgumentException("sequence " + b + " position " + t
                            + ": no target distribution at a learned position");
                }
                if (y < 0 || y >= width || q.id(q.size() - 1) >= width) {
                    throw new IllegalArgumentException("sequence " + b + " position " + t + ": label " + y
                            + " or target id " + q.id(q.size() - 1) + " is outside the logits' " + width + " columns");
                }
                gold[row] = y;
                goldWeight[row] = 1;
                tokens++;
                for (int j = 0; j < q.size(); j++) {
                    ids[row * k + j] = q.id(j);
                    probs[row * k + j] = (float) q.prob(j);
                    if (q.prob(j) > 0) {
                        negEntropy += q.prob(j) * Math.log(q.prob(j));
                    }
                }
            }
        }
        NDManager m = logits.getManager();
        // PyTorch-owned copies: gather keeps its index and mul its factor until backward
        NDArray goldIds = OwnedArrays.own(m.create(gold, new ai.djl.ndarray.types.Shape(batch, s, 1)))
                .toDevice(logits.getDevice(), false);
        NDArray goldW = OwnedArrays.own(m.create(goldWeight, new ai.djl.ndarray.types.Shape(batch, s)))
                .toDevice(logits.getDevice(), false);
        NDArray qIds = OwnedArrays.own(m.create(ids, new ai.djl.ndarray.types.Shape(batch, s, k)))
                .toDevice(logits.getDevice(), false);
        NDArray qProbs = OwnedArrays.own(m.create(probs, new ai.djl.ndarray.types.Shape(batch, s, k)))
                .toDevice(logits.getDevice(), false);
        NDArray logp = logits.toType(DataType.FLOAT32, false).logSoftmax(-1);
        NDArray clm = logp.gather(goldIds, 2).squeeze(2).mul(goldW).sum().neg();
        NDArray fuse = logp.gather(qIds, 2).mul(qProbs).sum().neg();
        return new Terms(clm, fuse, tokens, negEntropy);
    }

    /** Summed terms over some positions. */
    private record Terms(NDArray clm, NDArray fuse, long tokens, double negEntropy) {
        Terms plus(Terms o) {
            return clm == null ? o : new Terms(clm.add(o.clm), fuse.add(o.fuse), tokens + o.tokens,
                    negEntropy + o.negEntropy);
        }
    }
}
