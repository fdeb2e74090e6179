package dev.amalgam.merge.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** A stage's references inside a {@code modules:} entry name the earlier stage like any other reference. */
class MultiStageModulesTest {

    @Test
    void referencesInsideModulesAreRewrittenAndMakeADependency() {
        List<MultiStageConfig.Stage> stages = MultiStageConfig.parse("""
                name: text
                merge_method: linear
                models: [{model: a, parameters: {weight: 1}}, {model: b, parameters: {weight: 1}}]
                ---
                merge_method: linear
                modules:
                  language_model.model.layers:
                    slices:
                      - sources: [{model: text, layer_range: [0, 2]}, {model: c, layer_range: [0, 2]}]
                  default:
                    models: [{model: "text@main", parameters: {weight: 1}}, {model: c, parameters: {weight: 1}}]
                """, name -> "out/" + name);
        MultiStageConfig.Stage last = stages.get(1);
        assertThat(last.dependsOn()).containsExactly("text");
        assertThat(last.config().at("/modules/language_model.model.layers/slices/0/sources/0/model").stringValue())
                .isEqualTo("out/text");
        assertThat(last.config().at("/modules/language_model.model.layers/slices/0/sources/1/model").stringValue())
                .isEqualTo("c");
        assertThat(last.config().at("/modules/default/models/0/model").stringValue()).isEqualTo("out/text@main");
    }
}
