package dev.amalgam.fusion.fusechat.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.amalgam.fusion.fusechat.FuseChatObjective;
import dev.amalgam.fusion.fusechat.FuseLossType;
import dev.amalgam.fusion.fusechat.SparseDistribution;
import dev.amalgam.fusion.testing.TinyData;
import dev.amalgam.fusion.train.FullFineTune;
import dev.amalgam.modelengine.CheckpointLoader;
import dev.amalgam.modelengine.DjlRuntime;
import dev.amalgam.modelengine.EngineOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The objective as the trainer runs it (DJL autograd) against the plain-Java {@link FuseChatObjective}: the same loss
 * values, DJL's gradient equal to the analytic one and to central differences, and a micro-batch of a real model
 * equal to the plain function on that model's logits.
 */
class FuseChatDistillTest {

    static final int X = FuseChatObjective.IGNORE_INDEX;

    /** Random batch: 2 sequences of 5 positions over 7 logits, some labels not learned, targets of 1..3 ids. */
    record Batch(float[][][] logits, int[][] labels, List<List<SparseDistribution>> targets) {
    }

    static Batch batch(long seed) {
        Random r = new Random(seed);
        float[][][] z = new float[2][5][7];
        for (float[][] s : z) {
            for (float[] row : s) {
                for (int v = 0; v < row.length; v++) {
                    row[v] = (float) r.nextGaussian() * 2;
                }
            }
        }
        int[][] labels = {{X, X, 3, 1, 6}, {X, 2, X, 5, 0}};
        List<List<SparseDistribution>> targets = new ArrayList<>();
        for (int[] l : labels) {
            List<SparseDistribution> q = new ArrayList<>();
            for (int t = 0; t < l.length; t++) {
                if (t + 1 < l.length && l[t + 1] != X) {
                    int k = 1 + r.nextInt(3);
                    int[] ids = r.ints(0, 7).distinct().limit(k).sorted().toArray();
                    double[] p = new double[ids.length];
                    double sum = 0;
                    for (int j = 0; j < p.length; j++) {
                        p[j] = 0.1 + r.nextDouble();
                        sum += p[j];
                    }
                    for (int j = 0; j < p.length; j++) {
                        p[j] /= sum;
                    }
                    q.add(new SparseDistribution(ids, p));
                } else {
                    q.add(null);
                }
            }
            targets.add(q);
        }
        return new Batch(z, labels, targets);
    }

    @Test
    void autogradLossAndGradientEqualThePlainObjectiveForCeAndKl() {
        Batch b = batch(3);
        for (FuseLossType type : FuseLossType.values()) {
            for (double lambda : new double[] {0.9, 0.3, 0.0, 1.0}) {
                FuseChatObjective.Loss expected = FuseChatObjective.loss(b.logits(), b.labels(), b.targets(), lambda,
                        type);
                float[][][] grad = FuseChatObjective.gradient(b.logits(), b.labels(), b.targets(), lambda);
                try (NDManager m = DjlRuntime.engine().newBaseManager()) {
                    NDArray z = m.create(flat(b.logits()), new ai.djl.ndarray.types.Shape(2, 5, 7));
                    z.setRequiresGradient(true);
                    double value;
                    try (GradientCollector gc = DjlRuntime.engine().newGradientCollector()) {
                        NDArray l = FuseChatDistill.loss(z, b.labels(), b.targets(), lambda, type);
                        value = l.getFloat();
                        gc.backward(l);
                    }
                    assertThat(value).as(type + " lambda " + lambda).isCloseTo(expected.total(), within(1e-5));
                    float[] g = z.getGradient().toFloatArray();
                    float[] want = flat(grad);
                    for (int i = 0; i < g.length; i++) {
                        assertThat(g[i]).as(type + " lambda " + lambda + " element " + i).isCloseTo(want[i],
                                within(1e-6f));
                    }
                }
            }
        }
    }

    @Test
    void autogradGradientMatchesCentralDifferencesOfThePlainLoss() {
        Batch b = batch(11);
        double lambda = 0.7;
        float[] g;
        try (NDManager m = DjlRuntime.engine().newBaseManager()) {
            NDArray z = m.create(flat(b.logits()), new ai.djl.ndarray.types.Shape(2, 5, 7));
            z.setRequiresGradient(true);
            try (GradientCollector gc = DjlRuntime.engine().newGradientCollector()) {
                gc.backward(FuseChatDistill.loss(z, b.labels(), b.targets(), lambda, FuseLossType.KL));
            }
            g = z.getGradient().toFloatArray();
        }
        double eps = 1e-3;
        for (int i = 0; i < g.length; i++) {
            int s = i / 35;
            int t = (i % 35) / 7;
            int v = i % 7;
            float saved = b.logits()[s][t][v];
            b.logits()[s][t][v] = (float) (saved + eps);
            double plus = FuseChatObjective.loss(b.logits(), b.labels(), b.targets(), lambda, FuseLossType.KL).total();
            b.logits()[s][t][v] = (float) (saved - eps);
            double minus = FuseChatObjective.loss(b.logits(), b.labels(), b.targets(), lambda, FuseLossType.KL).total();
            b.logits()[s][t][v] = saved;
            assertThat((double) g[i]).as("element " + i).isCloseTo((plus - minus) / (2 * eps), within(2e-4));
        }
    }

    @Test
    void aMicroBatchOfATinyModelIsThePlainObjectiveOnItsLogitsOverTheStepsMicroBatches(@TempDir Path dir) {
        Path model = TinyData.llama(dir.resolve("m"), 4);
        Random r = new Random(5);
        List<FuseChatExample> examples = new ArrayList<>();
        for (int e = 0; e < 3; e++) {
            int n = 6 + 3 * e; // different lengths: the batch is padded
            int[] ids = r.ints(n, 0, 256).toArray();
            int[] labels = new int[n];
            List<SparseDistribution> q = new ArrayList<>();
            for (int t = 0; t < n; t++) {
                labels[t] = t < 2 ? X : ids[t];
            }
            for (int t = 0; t < n; t++) {
                q.add(t + 1 < n && labels[t + 1] != X ? new SparseDistribution(new int[] {ids[t], 250 + e},
                        new double[] {0.25, 0.75}) : null);
            }
            examples.add(new FuseChatExample("e" + e, ids, labels, q));
        }
        FuseChatDistill objective = new FuseChatDistill(examples, FuseLossType.CE);
        objective.prepare(List.of(new int[] {0, 2}, new int[] {1}), 0.6);
        double got;
        try (FullFineTune trainable = new FullFineTune(CheckpointLoader.load(model, EngineOptions.cpu()));
                NDManager scope = trainable.base().manager().newSubManager()) {
            got = objective.loss(trainable.base(), new int[] {0, 2}, scope).getFloat();
            float[][][] logits = {FuseChatTrainingTest.logits(trainable.base(), examples.get(0).inputIds()),
                FuseChatTrainingTest.logits(trainable.base(), examples.get(2).inputIds())};
            List<List<SparseDistribution>> targets = List.of(examples.get(0).targets(), examples.get(2).targets());
            FuseChatObjective.Loss expected = FuseChatObjective.loss(logits,
                    new int[][] {examples.get(0).labels(), examples.get(2).labels()}, targets, 0.6, FuseLossType.CE);
            assertThat(got).as("the micro-batch's token mean, halved for a step of 2 micro-batches")
                    .isCloseTo(expected.total() / 2, within(1e-5));
            assertThat(objective.clmLoss()).isCloseTo(expected.clm(), within(1e-5));
            assertThat(objective.distillLoss()).isCloseTo(expected.fuse(), within(1e-5));
        }
    }

    static float[] flat(float[][][] a) {
        int n = 0;
        for (float[][] s : a) {
            for (float[] row : s) {
                n += row.length;
            }
        }
        float[] out = new float[n];
        int i = 0;
        for (float[][] s : a) {
            for (float[] row : s) {
                System.arraycopy(row, 0, out, i, row.length);
                i += row.length;
            }
        }
        return out;
    }
}
