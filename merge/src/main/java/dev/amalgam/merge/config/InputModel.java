package dev.amalgam.merge.config;

import java.util.Map;

/**
 * One entry of {@code models:}.
 *
 * @param model      model reference (a path in the CLI; an artifact id or name in the service)
 * @param parameters per-model parameters
 */
public record InputModel(String model, Map<String, ParameterSetting> parameters) {
    public InputModel {
        parameters = parameters == null ? Map.of() : Map.copyOf(parameters);
    }
}
