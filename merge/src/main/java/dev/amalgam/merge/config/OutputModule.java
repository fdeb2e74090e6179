package dev.amalgam.merge.config;

import java.util.List;
import java.util.Map;

/**
 * One entry of mergekit's {@code modules:} config: how one module of a multi-module family (a vision-language
 * model's language model, its vision tower, everything else) is merged, in the {@code models:} or the
 * {@code slices:} form, with parameters between the slices' and the top-level ones.
 *
 * @param models     {@code models:} form (empty when slices are given)
 * @param slices     {@code slices:} form (empty when models are given)
 * @param parameters module-level parameters: looked up after a source's and a slice's, before the top-level ones
 */
public record OutputModule(List<InputModel> models, List<OutputSlice> slices, Map<String, ParameterSetting> parameters) {
    public OutputModule {
        models = models == null ? List.of() : List.copyOf(models);
        slices = slices == null ? List.of() : List.copyOf(slices);
        parameters = parameters == null ? Map.of() : Map.copyOf(parameters);
    }

    /** Whether the module uses the {@code models:} form. */
    public boolean usesModels() {
        return !models.isEmpty();
    }

    /**
     * The module seen as slices, as {@link MergeConfig#asSlices()} sees a config: the {@code models:} form becomes
     * one slice over all layers ({@code layerEnd = -1}), with a {@code baseModel} not among the models added last.
     */
    public List<OutputSlice> asSlices(String baseModel) {
        return usesModels() ? List.of(MergeConfig.allLayers(models, baseModel)) : slices;
    }
}
