package dev.amalgam.modelengine.eval;

import java.util.List;

/**
 * One multiple-choice task's metrics as lm-eval aggregates them: the mean of each per-document 0/1 score and its
 * standard error, the sample standard deviation (n - 1) over sqrt(n) (lm-eval's {@code mean_stderr}; null for a
 * single document, where lm-eval reports "N/A").
 *
 * @param name the task's name
 * @param format the record format it was read in ({@link TaskFormat#id()})
 * @param docs documents scored
 * @param acc share of documents whose highest log-likelihood choice is the gold one
 * @param accStderr standard error of {@code acc}
 * @param accNorm the same with log-likelihoods divided by the choices' lengths in characters; null when the task
 *                does not define acc_norm (winogrande)
 * @param accNormStderr standard error of {@code accNorm}
 */
public record TaskResult(String name, String format, int docs, double acc, Double accStderr, Double accNorm,
        Double accNormStderr) {

    /** Aggregates per-document scores; acc_norm only when {@code withAccNorm}. */
    public static TaskResult of(String name, String format, boolean withAccNorm, List<MultipleChoice.DocScore> scores) {
        double[] acc = scores.stream().mapToDouble(s -> s.acc() ? 1 : 0).toArray();
        double[] norm = scores.stream().mapToDouble(s -> s.accNorm() ? 1 : 0).toArray();
        return new TaskResult(name, format, scores.size(), mean(acc), meanStderr(acc),
                withAccNorm ? mean(norm) : null, withAccNorm ? meanStderr(norm) : null);
    }

    /** The metric averaged across tasks (as the BlockPruner paper does): acc_norm where defined, else acc. */
    public double headline() {
        return accNorm != null ? accNorm : acc;
    }

    /** The plain mean of {@link #headline()} over {@code tasks} (every task weighs the same, whatever its size). */
    public static double average(List<TaskResult> tasks) {
        if (tasks.isEmpty()) {
            throw new IllegalArgumentException("no tasks to average");
        }
        return tasks.stream().mapToDouble(TaskResult::headline).average().orElseThrow();
    }

    /** The arithmetic mean. */
    public static double mean(double[] x) {
        if (x.length == 0) {
            throw new IllegalArgumentException("mean of no values");
        }
        double s = 0;
        for (double v : x) {
            s += v;
        }
        return s / x.length;
    }

    /** lm-eval's {@code mean_stderr}: sqrt(sum((x - mean)^2) / (n - 1)) / sqrt(n); null when n < 2. */
    public static Double meanStderr(double[] x) {
        if (x.length < 2) {
            return null;
        }
        double mu = mean(x);
        double ss = 0;
        for (double v : x) {
            ss += (v - mu) * (v - mu);
        }
        return Math.sqrt(ss / (x.length - 1)) / Math.sqrt(x.length);
    }
}
