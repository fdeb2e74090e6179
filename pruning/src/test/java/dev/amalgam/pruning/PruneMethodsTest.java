package dev.amalgam.pruning;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

/** The registry of pruning methods: lookup by spec name, the error for an unknown name, the papers. */
class PruneMethodsTest {

    static final List<String> NAMES = List.of("blockpruner", "layer_greedy", "shortgpt", "relative_magnitude",
            "oneshot_block");

    @Test
    void everyMethodIsFoundByItsSpecName() {
        assertThat(PruneMethods.all()).extracting(PruneMethod::specName).containsExactlyElementsOf(NAMES);
        for (PruneMethod m : PruneMethods.all()) {
            assertThat(PruneMethods.get(m.specName())).isSameAs(m);
            assertThat(PruneMethods.find(m.specName())).isSameAs(m);
            PruneSpec parsed = PruneSpec.parse(JsonMapper.builder().build().readTree(
                    "{\"method\": \"" + m.specName() + "\", \"blocks\": 2}"));
            assertThat(parsed.method()).isSameAs(m);
            assertThat(parsed.toJson().get("method").asString()).isEqualTo(m.specName());
        }
        assertThat(PruneMethods.all()).filteredOn(PruneMethod::layerLevel).extracting(PruneMethod::specName)
                .containsExactly("layer_greedy", "shortgpt", "relative_magnitude");
    }

    @Test
    void anUnknownMethodFailsWithTheKnownOnes() {
        assertThat(PruneMethods.find("sleb")).isNull();
        assertThatThrownBy(() -> PruneMethods.get("sleb")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("unknown pruning method 'sleb'; known: blockpruner, layer_greedy, shortgpt, "
                        + "relative_magnitude, oneshot_block");
        List<String> problems = new ArrayList<>();
        PruneSpec.fromJson(JsonMapper.builder().build().readTree("{\"method\": \"sleb\", \"blocks\": 2}"), Set.of(),
                problems);
        assertThat(problems).containsExactly("method: unknown 'sleb', expected one of blockpruner, layer_greedy, "
                + "shortgpt, relative_magnitude, oneshot_block");
    }

    @Test
    void everyMethodNamesItsPaperAndItsParameters() {
        for (PruneMethod m : PruneMethods.all()) {
            Paper p = m.paper();
            assertThat(p).as(m.specName()).isNotNull();
            assertThat(p.title()).as(m.specName()).isNotBlank();
            assertThat(p.authors()).as(m.specName()).isNotBlank();
            assertThat(p.year()).as(m.specName()).isBetween(2017, 2030);
            assertThat(p.arxivId()).as(m.specName()).matches("\\d{4}\\.\\d{4,5}");
            assertThat(p.url()).isEqualTo("https://arxiv.org/abs/" + p.arxivId());
            assertThat(m.parameters()).as(m.specName()).extracting(PruneParameter::name)
                    .containsExactly("blocks", "targetRatio", "candidates", "samples", "seqLen", "seed", "batchSize",
                            "cacheBudgetMb")
                    .allMatch(PruneSpec.FIELDS::contains);
            assertThat(m.parameters()).allMatch(q -> !q.meaning().isBlank());
        }
        assertThat(PruneMethods.get("blockpruner").paper().arxivId()).isEqualTo("2406.10594");
        assertThat(PruneMethods.get("shortgpt").paper().arxivId()).isEqualTo("2403.03853");
    }
}
