package dev.amalgam.modelengine.generate;

import java.util.Arrays;
import java.util.Random;

/** Picks the next token from one row of logits, in Java (deterministic for a seed, on any device). */
final class Sampler {

    private final GenerationConfig config;
    private final Random random;

    Sampler(GenerationConfig config) {
        this.config = config;
        this.random = new Random(config.seed());
    }

    /** Next token from {@code logits[offset, offset + vocab)}. */
    int next(float[] logits, int offset, int vocab) {
        if (!config.doSample()) {
            return argmax(logits, offset, vocab);
        }
        // Temperature, then tokens sorted by logit (descending, ties by id).
        Integer[] order = new Integer[vocab];
        for (int i = 0; i < vocab; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> {
            int c = Float.compare(logits[offset + b], logits[offset + a]);
            return c != 0 ? c : Integer.compare(a, b);
        });
        int keep = config.topK() > 0 ? Math.min(config.topK(), vocab) : vocab; // top-k
        double max = logits[offset + order[0]] / config.temperature();
        double[] p = new double[keep];
        double z = 0;
        for (int i = 0; i < keep; i++) {
            p[i] = Math.exp(logits[offset + order[i]] / config.temperature() - max);
            z += p[i];
        }
        // Top-p: the smallest prefix whose mass reaches topP (the token crossing the threshold is kept).
        double cumulative = 0;
        int nucleus = 0;
        while (nucleus < keep && (nucleus == 0 || cumulative < config.topP())) {
            cumulative += p[nucleus] / z;
            nucleus++;
        }
        double total = 0;
        for (int i = 0; i < nucleus; i++) {
            total += p[i];
        }
        double u = random.nextDouble() * total;
        for (int i = 0; i < nucleus; i++) {
            u -= p[i];
            if (u < 0) {
                return order[i];
            }
        }
        return order[nucleus - 1];
    }

    static int argmax(float[] logits, int offset, int vocab) {
        int best = 0;
        for (int i = 1; i < vocab; i++) {
            if (logits[offset + i] > logits[offset + best]) {
                best = i;
            }
        }
        return best;
    }
}
