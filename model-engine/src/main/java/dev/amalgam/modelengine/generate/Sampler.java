package dev.amalgam.modelengine.generate;

import java.util.Arrays;
import java.util.SplittableRandom;

/** Picks the next token from one row of logits, in Java (deterministic for a seed, on any device). */
final class Sampler {

    private final GenerationConfig config;
    private final SplittableRandom random;

    Sampler(GenerationConfig config) {
        this(config, config.seed());
    }

    Sampler(GenerationConfig config, long seed) {
        this.config = config;
        // not java.util.Random: its first draws for neighbouring seeds (the n choices of a request: seed + i) are
        // nearly equal, so the choices' first tokens were almost always the same
        this.random = new SplittableRandom(seed);
    }

    /** Next token from {@code logits[offset, offset + vocab)}. */
    int next(float[] logits, int offset, int vocab) {
        if (!config.doSample()) {
            return argmax(logits, offset, vocab);
        }
        double t = config.temperature();
        double max = logits[offset + argmax(logits, offset, vocab)] / t;
        if (config.topK() == 0 && config.topP() >= 1) {
            // Plain temperature sampling: inverse CDF in id order, no sort needed.
            double z = 0;
            for (int i = 0; i < vocab; i++) {
                z += Math.exp(logits[offset + i] / t - max);
            }
            double u = random.nextDouble() * z;
            for (int i = 0; i < vocab; i++) {
                u -= Math.exp(logits[offset + i] / t - max);
                if (u < 0) {
                    return i;
                }
            }
            return argmax(logits, offset, vocab);
        }
        // Tokens by logit, descending (ties by id), packed into longs for a primitive sort.
        long[] order = new long[vocab];
        for (int i = 0; i < vocab; i++) {
            int bits = Float.floatToRawIntBits(logits[offset + i]);
            int sortable = bits ^ ((bits >> 31) & 0x7fffffff); // int order == float order
            order[i] = ((long) ~sortable << 32) | i; // ~ reverses the order: largest logit first
        }
        Arrays.sort(order);
        int keep = config.topK() > 0 ? Math.min(config.topK(), vocab) : vocab; // top-k
        double[] p = new double[keep];
        double z = 0;
        for (int i = 0; i < keep; i++) {
            p[i] = Math.exp(logits[offset + (int) order[i]] / t - max);
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
                return (int) order[i];
            }
        }
        return (int) order[nucleus - 1];
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
