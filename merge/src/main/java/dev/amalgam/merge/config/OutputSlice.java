package dev.amalgam.merge.config;

import java.util.List;
import java.util.Map;

/**
 * One output slice: its layers are merged from the sources (all the same length) and appended to the output.
 *
 * @param sources    input layer ranges
 * @param baseModel  slice-level base model overriding the global one, or null
 * @param parameters slice-level parameters (between the per-model and the global ones)
 */
public record OutputSlice(List<SliceSource> sources, String baseModel, Map<String, ParameterSetting> parameters) {
    public OutputSlice {
        sources = List.copyOf(sources);
        parameters = parameters == null ? Map.of() : Map.copyOf(parameters);
    }
}
