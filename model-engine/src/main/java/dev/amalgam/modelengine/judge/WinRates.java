package dev.amalgam.modelengine.judge;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * The pairwise reports: AlpacaEval's win rate and a length-controlled win rate, and Arena-Hard-Auto's score against
 * its baseline with a bootstrap interval. What each computes, and how it differs from the benchmark's own code, is
 * in docs/evaluation.md ("Judging").
 */
public final class WinRates {

    /** The L2 strength of the length-controlled GLM: sklearn's objective 1/2 |w|^2 + C * sum of log losses. */
    public static final double LC_C = 100;
    /** Arena-Hard-Auto's weight of a strong verdict (A>>B counts three times). */
    public static final int STRONG_WEIGHT = 3;
    public static final int BOOTSTRAP_ROUNDS = 100;

    private WinRates() {
    }

    /**
     * AlpacaEval's head-to-head numbers ({@code describe_head2head} of its absolute scoring rule), in percent where
     * it gives percent.
     *
     * @param winRate mean of (preference - 1) * 100 over the annotations with a preference
     * @param standardError its standard error (sample deviation over sqrt(n)) * 100; null for fewer than 2
     * @param discreteWinRate the same with each preference rounded to 1 or 2 (1.5 a draw counted 0.5)
     */
    public record AlpacaWinRate(double winRate, Double standardError, double discreteWinRate, int nWins, int nWinsBase,
                                int nDraws, int nTotal) {
    }

    /**
     * The win rate of preferences in [1, 2] (1 the baseline better, 2 the model); nulls (no preference) are left out,
     * a preference of 0 (AlpacaEval's old encoding of a draw) counts as 1.5.
     */
    public static AlpacaWinRate alpacaWinRate(List<Double> preferences) {
        List<Double> p = valid(preferences);
        if (p.isEmpty()) {
            throw new IllegalArgumentException("no annotation has a preference: no win rate");
        }
        double[] x = p.stream().mapToDouble(v -> v - 1).toArray();
        int wins = 0;
        int base = 0;
        int draws = 0;
        double discrete = 0;
        for (double v : x) {
            wins += v > 0.5 ? 1 : 0;
            base += v < 0.5 ? 1 : 0;
            draws += v == 0.5 ? 1 : 0;
            // the zero-one rule rounds half to even after mapping 1.5 to a draw: only exactly 1.5 is a draw
            discrete += v == 0.5 ? 0.5 : Math.rint(v + 1) - 1;
        }
        return new AlpacaWinRate(mean(x) * 100, x.length < 2 ? null : sem(x) * 100, discrete / x.length * 100, wins, base,
                draws, x.length);
    }

    private static List<Double> valid(List<Double> preferences) {
        List<Double> out = new ArrayList<>();
        for (Double v : preferences) {
            if (v == null || v.isNaN()) {
                continue;
            }
            double p = v == 0.0 ? 1.5 : v;
            if (p < 1 || p > 2) {
                throw new IllegalArgumentException("a preference must be in [1, 2], got " + v);
            }
            out.add(p);
        }
        return out;
    }

    /**
     * The length-controlled win rate as far as it can be computed from this job's annotations alone.
     * The GLM p(model wins) = sigmoid(theta + beta * tanh(d)), with d = (len_1 - len_2) / sd(len_1 - len_2) (lengths in
     * characters, baseline minus model, sd over all annotations), is fitted to the preferences (p - 1 as a soft
     * target, cross-entropy, L2 penalty 1/2 (theta^2 + beta^2) against C = 100 times the summed losses, no separate
     * intercept) by Newton's method; the length-controlled win rate is sigmoid(theta) * 100, the prediction at d = 0.
     * AlpacaEval's {@code length_controlled_v1} also has a per-instruction difficulty term fitted on its leaderboard's
     * annotations, which a job does not have.
     *
     * @param theta the model term; {@code beta} the length term
     */
    public record LengthControlled(double winRate, double theta, double beta, int n) {
    }

    /**
     * @param preferences in [1, 2] or null, one per annotation
     * @param len1 the baseline's output lengths; {@code len2} the model's, one per annotation
     */
    public static LengthControlled lengthControlled(List<Double> preferences, int[] len1, int[] len2) {
        int n = preferences.size();
        if (len1.length != n || len2.length != n) {
            throw new IllegalArgumentException("one length pair per annotation");
        }
        double[] delta = new double[n];
        for (int i = 0; i < n; i++) {
            delta[i] = len1[i] - len2[i];
        }
        double sd = n < 2 ? 0 : Math.sqrt(variance(delta));
        List<double[]> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Double v = preferences.get(i);
            if (v == null || v.isNaN()) {
                continue;
            }
            double y = (v == 0.0 ? 1.5 : v) - 1;
            double feature = sd > 0 ? Math.tanh(delta[i] / sd) : 0;
            rows.add(new double[] {feature, y});
        }
        if (rows.isEmpty()) {
            throw new IllegalArgumentException("no annotation has a preference: no length-controlled win rate");
        }
        double[] w = fitGlm(rows, LC_C);
        return new LengthControlled(sigmoid(w[0]) * 100, w[0], w[1], rows.size());
    }

    /**
     * Minimises 1/2 (theta^2 + beta^2) + C * sum_i CE(y_i, sigmoid(theta + beta x_i)) by Newton's method with step
     * halving; the objective is strictly convex, so the minimum is unique. Each row is {x, y}.
     */
    static double[] fitGlm(List<double[]> rows, double c) {
        double[] w = {0, 0};
        double f = objective(w, rows, c);
        for (int iter = 0; iter < 200; iter++) {
            double g0 = w[0];
            double g1 = w[1];
            double h00 = 1;
            double h01 = 0;
            double h11 = 1;
            for (double[] r : rows) {
                double s = sigmoid(w[0] + w[1] * r[0]);
                double e = c * (s - r[1]);
                double v = c * s * (1 - s);
                g0 += e;
                g1 += e * r[0];
                h00 += v;
                h01 += v * r[0];
                h11 += v * r[0] * r[0];
            }
            double det = h00 * h11 - h01 * h01;
            double d0 = (h11 * g0 - h01 * g1) / det;
            double d1 = (h00 * g1 - h01 * g0) / det;
            double step = 1;
            double[] next = {w[0] - d0, w[1] - d1};
            double fn = objective(next, rows, c);
            while (fn > f && step > 1e-12) {
                step /= 2;
                next = new double[] {w[0] - step * d0, w[1] - step * d1};
                fn = objective(next, rows, c);
            }
            boolean done = Math.abs(step * d0) < 1e-12 && Math.abs(step * d1) < 1e-12;
            w = next;
            f = fn;
            if (done) {
                break;
            }
        }
        return w;
    }

    static double objective(double[] w, List<double[]> rows, double c) {
        double loss = 0;
        for (double[] r : rows) {
            double z = w[0] + w[1] * r[0];
            // -[y log s + (1-y) log(1-s)] with log s = -log(1+e^-z), log(1-s) = -log(1+e^z)
            loss += r[1] * softplus(-z) + (1 - r[1]) * softplus(z);
        }
        return 0.5 * (w[0] * w[0] + w[1] * w[1]) + c * loss;
    }

    private static double softplus(double z) {
        return z > 30 ? z : Math.log1p(Math.exp(z));
    }

    static double sigmoid(double z) {
        return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
    }

    /**
     * Arena-Hard-Auto's score against the baseline, as its show_result without style control: the mean of every
     * battle score (per question, game 2's label scored from the model's side as A, and 1 - game 1's scores, each strong
     * verdict counted {@value #STRONG_WEIGHT} times); the reported score is the mean of {@value #BOOTSTRAP_ROUNDS}
     * bootstrap means (the battle scores resampled with replacement), the interval their 5% and 95% quantiles.
     *
     * @param rawScore the plain mean of the battle scores; scores in [0, 1]
     */
    public record ArenaScore(double score, double lower, double upper, double rawScore, int battles, int questions) {
    }

    /** @param battleScores the scores of each judged question (both games parsed), concatenated */
    public static ArenaScore arenaScore(double[] battleScores, int questions, long seed) {
        if (battleScores.length == 0) {
            throw new IllegalArgumentException("no question has both games judged: no score");
        }
        Random random = new Random(seed);
        double[] means = new double[BOOTSTRAP_ROUNDS];
        for (int b = 0; b < BOOTSTRAP_ROUNDS; b++) {
            double sum = 0;
            for (int i = 0; i < battleScores.length; i++) {
                sum += battleScores[random.nextInt(battleScores.length)];
            }
            means[b] = sum / battleScores.length;
        }
        return new ArenaScore(mean(means), quantile(means, 0.05), quantile(means, 0.95), mean(battleScores),
                battleScores.length, questions);
    }

    /** The battle scores of one question from its two labels, or null when either label is missing or unknown. */
    public static double[] battleScores(String game1Label, String game2Label) {
        if (game1Label == null || game2Label == null) {
            return null;
        }
        double[] modelAsA = ArenaHard.labelScores(game2Label, STRONG_WEIGHT);
        double[] baselineAsA = ArenaHard.labelScores(game1Label, STRONG_WEIGHT);
        if (modelAsA == null || baselineAsA == null) {
            return null;
        }
        double[] out = Arrays.copyOf(modelAsA, modelAsA.length + baselineAsA.length);
        for (int i = 0; i < baselineAsA.length; i++) {
            out[modelAsA.length + i] = 1 - baselineAsA[i];
        }
        return out;
    }

    /** The q-quantile with linear interpolation between order statistics (numpy's and pandas' default). */
    static double quantile(double[] values, double q) {
        double[] s = values.clone();
        Arrays.sort(s);
        double pos = q * (s.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(lo + 1, s.length - 1);
        return s[lo] + (pos - lo) * (s[hi] - s[lo]);
    }

    static double mean(double[] x) {
        double s = 0;
        for (double v : x) {
            s += v;
        }
        return s / x.length;
    }

    /** Sample variance (n - 1). */
    static double variance(double[] x) {
        double m = mean(x);
        double s = 0;
        for (double v : x) {
            s += (v - m) * (v - m);
        }
        return s / (x.length - 1);
    }

    static double sem(double[] x) {
        return Math.sqrt(variance(x) / x.length);
    }
}
