package dev.amalgam.merge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.amalgam.merge.config.MergeConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The files mergekit writes beside a merged model: mergekit_config.yml (the config as given) and its model card. */
class ModelCardTest {

    @TempDir
    Path tmp;

    private final TinyLlama tiny = TinyLlama.small();

    private MergeResult merge(String yaml, String out) {
        return new MergeRunner().run(MergeConfig.parseYaml(yaml), ModelResolver.paths(tmp), tmp.resolve(out),
                MergeOptions.defaults().withThreads(2), dev.amalgam.job.Progress.NONE);
    }

    @Test
    void writesTheConfigAsGivenAndMergekitsCardWithTheBaseAndTheMethodPaper() throws IOException {
        tiny.write(tmp.resolve("org/base"), 1);
        tiny.writeVariant(tmp.resolve("math"), 1, 2, 0.02f);
        tiny.writeVariant(tmp.resolve("code"), 1, 3, 0.02f);
        String yaml = """
                # a comment and the key order stay as written
                merge_method: ties
                base_model: org/base
                models:
                  - model: math
                    parameters: {weight: 0.5, density: 0.5}
                  - model: code
                    parameters: {weight: 0.5, density: 0.5}
                dtype: bfloat16
                """;
        MergeResult r = merge(yaml, "my-merge");
        assertThat(r.files()).contains("mergekit_config.yml", "README.md");
        assertThat(Files.readString(tmp.resolve("my-merge/mergekit_config.yml"))).isEqualTo(yaml);

        String card = Files.readString(tmp.resolve("my-merge/README.md"));
        // front matter as PyYAML dumps mergekit's dict (keys sorted): Hub repositories only, mergekit's tags
        assertThat(card).startsWith("""
                ---
                base_model:
                - org/base
                library_name: transformers
                tags:
                - mergekit
                - merge
                - amalgam
                ---
                # my-merge
                """);
        assertThat(card).contains("""
                ## Merge Details
                ### Merge Method

                This model was merged using the [TIES](https://arxiv.org/abs/2306.01708) merge method using \
                [org/base](https://huggingface.co/org/base) as a base.

                ### Models Merged

                The following models were included in the merge:
                * math
                * code

                ### Configuration

                The following YAML configuration was used to produce this model:

                ```yaml
                """ + yaml + "\n```\n");
        // Amalgam's extra section comes after mergekit's
        assertThat(card.indexOf("### Output")).isGreaterThan(card.indexOf("### Configuration"));
        assertThat(card).contains("2 layers, vocabulary 32, bfloat16");
    }

    @Test
    void slerpListsItsBaseAmongTheModelsAndLoraReferencesShowTheAdapter() throws IOException {
        tiny.write(tmp.resolve("a"), 1);
        tiny.writeVariant(tmp.resolve("b"), 1, 2, 0.02f);
        String yaml = """
                merge_method: slerp
                base_model: a
                models:
                  - model: a
                  - model: b
                parameters: {t: 0.5}
                """;
        merge(yaml, "out");
        String card = Files.readString(tmp.resolve("out/README.md"));
        assertThat(card).startsWith("---\nbase_model: []\n"); // local paths are not Hub repositories
        assertThat(card).contains("merged using the [SLERP](https://en.wikipedia.org/wiki/Slerp) merge method.\n");
        assertThat(card).contains("The following models were included in the merge:\n* a\n* b\n\n");
        assertThat(MergeConfig.parseYaml(Files.readString(tmp.resolve("out/mergekit_config.yml"))).mergeMethod())
                .isEqualTo("slerp");
    }

    @Test
    void methodsWithoutAPaperAreNamedWithoutALink() throws IOException {
        tiny.write(tmp.resolve("a"), 1);
        merge("""
                merge_method: passthrough
                slices:
                  - sources:
                      - model: a
                        layer_range: [0, 2]
                """, "out");
        assertThat(Files.readString(tmp.resolve("out/README.md")))
                .contains("merged using the Passthrough merge method.\n")
                .contains("The following models were included in the merge:\n* a\n");
    }

    @Test
    void hubIdsAreOwnerSlashNameOnly() {
        assertThat(OutputFiles.isHubId("meta-llama/Llama-3.1-8B")).isTrue();
        assertThat(OutputFiles.isHubId("/models/x")).isFalse();
        assertThat(OutputFiles.isHubId("./x/y")).isFalse();
        assertThat(OutputFiles.isHubId("a/b/c")).isFalse();
        assertThat(OutputFiles.isHubId("local-dir")).isFalse();
        assertThat(OutputFiles.isHubId("~/x")).isFalse();
    }
}
