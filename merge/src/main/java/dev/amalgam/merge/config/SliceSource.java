package dev.amalgam.merge.config;

import java.util.Map;

/**
 * One source of an output slice: layers [start, end) of a model.
 *
 * @param model      model reference
 * @param layerStart first layer (inclusive)
 * @param layerEnd   last layer (exclusive)
 * @param parameters per-model parameters for this slice
 */
public record SliceSource(String model, int layerStart, int layerEnd, Map<String, ParameterSetting> parameters) {
    public SliceSource {
        parameters = parameters == null ? Map.of() : Map.copyOf(parameters);
    }

    /** Number of layers taken. */
    public int length() {
        return layerEnd - layerStart;
    }
}
