package dev.amalgam.pruningservice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.amalgam.modelengine.Architecture;
import dev.amalgam.modelengine.tiny.TinyModels;
import dev.amalgam.modelengine.tiny.TinySizes;
import dev.amalgam.platform.jobtype.InvalidJobSpecException;
import dev.amalgam.platform.jobtype.LocalJobs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;

/** The serve job's spec: defaults, bounds and every problem at once (the serving itself: OpenAiServingTest in cli). */
class ServeJobTypeTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @TempDir
    Path dir;

    private final ServeJobType type = new ServeJobType("cpu", "127.0.0.1", "127.0.0.1");

    @Test
    void defaultsAreNineHundredIdleSecondsAndTheModelsName() {
        TinyModels.write(Architecture.LLAMA, dir.resolve("tiny"), TinySizes.defaults(), 1);
        ServeJobType.ValidServe v = LocalJobs.validate(type, JSON.readTree("{\"model\": \"tiny\"}"), dir);
        assertThat(v.idle()).isEqualTo(Duration.ofSeconds(900));
        assertThat(v.maxTokens()).isEqualTo(2048);
        assertThat(v.modelName()).isEqualTo("tiny");
        ServeJobType.ValidServe named = LocalJobs.validate(type,
                JSON.readTree("{\"model\": \"tiny\", \"modelName\": \"my-llm\", \"idleSeconds\": 5, \"maxTokens\": 7}"), dir);
        assertThat(named.modelName()).isEqualTo("my-llm");
        assertThat(named.idle()).isEqualTo(Duration.ofSeconds(5));
        assertThat(named.maxTokens()).isEqualTo(7);
    }

    @Test
    void badSpecsListEveryProblem() throws Exception {
        Files.createDirectories(dir.resolve("no-tokenizer"));
        assertThatThrownBy(() -> LocalJobs.validate(type,
                JSON.readTree("{\"model\": \"no-tokenizer\", \"idleSeconds\": 0, \"maxTokens\": 200000, \"port\": 1}"), dir))
                .isInstanceOfSatisfying(InvalidJobSpecException.class, e -> assertThat(String.join("\n", e.problems()))
                        .contains("idleSeconds: must be an integer between 1 and 86400")
                        .contains("maxTokens: must be an integer between 1 and 131072")
                        .contains("port: unknown field")
                        .contains("model: has no tokenizer.json"));
        assertThatThrownBy(() -> LocalJobs.validate(type, JSON.readTree("{}"), dir))
                .hasMessageContaining("model");
    }
}
