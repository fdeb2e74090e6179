package dev.amalgam.merge.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.amalgam.merge.MergeRunner;
import dev.amalgam.merge.TinyLlama;
import dev.amalgam.merge.config.MergeConfig;
import dev.amalgam.merge.config.MergeConfigException;
import dev.amalgam.merge.config.OutputSlice;
import dev.amalgam.merge.config.SliceSource;
import dev.amalgam.modelio.HfModelDir;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Numbers from the request or from a model's config.json must not size the planner's loops before they are checked. */
class MergePlannerBoundsTest {

    // only a guard against hanging: the loops these tests prevent ran for an hour
    private static final Duration GUARD = Duration.ofSeconds(20);

    @TempDir
    Path tmp;

    @Test
    void aLayerRangeBeyondTheModelStopsPlanningAtThatProblem() {
        TinyLlama.small().write(tmp.resolve("a"), 1);
        // built directly, as a caller that skipped MergeConfig.validate() would
        MergeConfig cfg = new MergeConfig("passthrough", null, List.of(),
                List.of(new OutputSlice(List.of(new SliceSource("a", 0, Integer.MAX_VALUE, Map.of())), null, Map.of())),
                Map.of(), null, null, null, null, null);
        MergeConfigException e = assertTimeoutPreemptively(GUARD, () -> {
            try (HfModelDir a = HfModelDir.open(tmp.resolve("a"))) {
                return catchThrowableOfType(MergeConfigException.class, () -> MergePlanner.plan(cfg, Map.of("a", a), 0));
            }
        });
        assertThat(e.problems()).containsExactly("slices[0]: layer_range [0, 2147483647] exceeds the 2 layers of 'a'");
    }

    @Test
    void aModelWhoseConfigClaimsTooManyLayersIsAProblem() throws IOException {
        for (String layers : List.of("2147483647", "99999999999")) {
            Path dir = TinyLlama.small().write(tmp.resolve("m" + layers), 1);
            Path config = dir.resolve("config.json");
            Files.writeString(config, Files.readString(config).replaceFirst("\"num_hidden_layers\"\\s*:\\s*2",
                    "\"num_hidden_layers\": " + layers));
            MergeConfig cfg = MergeConfig.parseYaml("merge_method: linear\nmodels: [{model: m, parameters: {weight: 1}}]\n");
            MergeConfigException e = assertTimeoutPreemptively(GUARD, () -> catchThrowableOfType(MergeConfigException.class,
                    () -> new MergeRunner().validate(cfg, ref -> dir)));
            assertThat(e.problems()).as(layers)
                    .containsExactly("model 'm': config.json num_hidden_layers " + layers + " is not between 1 and 1024");
        }
    }
}
