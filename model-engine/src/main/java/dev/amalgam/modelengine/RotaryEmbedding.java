package dev.amalgam.modelengine;

/** Rotary-embedding frequencies of Hugging Face's Llama family, with optional scaling. */
final class RotaryEmbedding {

    private RotaryEmbedding() {
    }

    /** inv_freq[i] = theta^(-2i/d) for i < d/2, then rope scaling, rounded to FP32 like Hugging Face's buffer. */
    static float[] inverseFrequencies(LlamaConfig config) {
        int d = config.headDim();
        double[] inv = new double[d / 2];
        for (int i = 0; i < inv.length; i++) {
            inv[i] = 1.0 / Math.pow(config.ropeTheta(), (2.0 * i) / d);
        }
        if (config.ropeScaling() != null) {
            inv = config.ropeScaling().apply(inv);
        }
        float[] out = new float[inv.length];
        for (int i = 0; i < inv.length; i++) {
            out[i] = (float) inv[i];
        }
        return out;
    }
}
