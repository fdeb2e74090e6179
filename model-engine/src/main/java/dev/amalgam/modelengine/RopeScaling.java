package dev.amalgam.modelengine;

/**
 * The {@code rope_scaling} entry of config.json, for the two types the engine implements.
 *
 * @param type {@code "llama3"} (Llama 3.1 frequency-band scaling) or {@code "linear"} (positions divided by factor)
 * @param factor scaling factor
 * @param lowFreqFactor Llama 3 only
 * @param highFreqFactor Llama 3 only
 * @param originalMaxPositionEmbeddings Llama 3 only: the pre-training context length
 */
public record RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor,
        int originalMaxPositionEmbeddings) {

    public RopeScaling {
        if (!type.equals("llama3") && !type.equals("linear")) {
            throw new UnsupportedModelException("unsupported rope_scaling type '" + type + "' (supported: llama3, linear)");
        }
        if (!(factor > 0)) {
            throw new UnsupportedModelException("rope_scaling.factor must be > 0, got " + factor);
        }
        if (type.equals("llama3") && (!(highFreqFactor > lowFreqFactor) || originalMaxPositionEmbeddings <= 0)) {
            throw new UnsupportedModelException("llama3 rope_scaling needs high_freq_factor > low_freq_factor and "
                    + "original_max_position_embeddings > 0");
        }
    }

    /** Llama 3.1 scaling as in Hugging Face's {@code _compute_llama3_parameters}. */
    public static RopeScaling llama3(double factor, double lowFreqFactor, double highFreqFactor, int originalMax) {
        return new RopeScaling("llama3", factor, lowFreqFactor, highFreqFactor, originalMax);
    }

    /** Linear position interpolation. */
    public static RopeScaling linear(double factor) {
        return new RopeScaling("linear", factor, 0, 0, 0);
    }

    /** Applies the scaling to the default inverse frequencies {@code theta^(-2i/d)}. */
    double[] apply(double[] invFreq) {
        double[] out = new double[invFreq.length];
        if (type.equals("linear")) {
            for (int i = 0; i < invFreq.length; i++) {
                out[i] = invFreq[i] / factor;
            }
            return out;
        }
        double lowFreqWavelen = originalMaxPositionEmbeddings / lowFreqFactor;
        double highFreqWavelen = originalMaxPositionEmbeddings / highFreqFactor;
        for (int i = 0; i < invFreq.length; i++) {
            double wavelen = 2 * Math.PI / invFreq[i];
            if (wavelen < highFreqWavelen) {
                out[i] = invFreq[i]; // high frequencies: unchanged
            } else if (wavelen > lowFreqWavelen) {
                out[i] = invFreq[i] / factor; // low frequencies: fully scaled
            } else { // the band between: smooth interpolation
                double smooth = (originalMaxPositionEmbeddings / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                out[i] = (1 - smooth) * invFreq[i] / factor + smooth * invFreq[i];
            }
        }
        return out;
    }
}
