package dev.amalgam.platform.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.amalgam.platform.error.ApiException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class SpecChecksTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Test
    void outputNamesFollowTheArtifactNameRulesIncludingDerivedNames() {
        List<String> errors = new ArrayList<>();
        SpecChecks.checkOutputNames("output", Map.of("the model", "../../etc/passwd"), errors);
        SpecChecks.checkOutputNames("output", Map.of("the model", "x".repeat(300)), errors);
        String longest = "m".repeat(200);
        Map<String, String> derived = new LinkedHashMap<>();
        derived.put("the model", longest);
        derived.put("the report", longest + "-report");
        SpecChecks.checkOutputNames("name", derived, errors);
        assertThat(errors).hasSize(3);
        assertThat(errors.get(0)).startsWith("output: '../../etc/passwd', the name of the model, must be 1-200 characters");
        assertThat(errors.get(1)).startsWith("output: '" + "x".repeat(57) + "...'");
        assertThat(errors.get(2)).startsWith("name: '").contains("the name of the report");
    }

    @Test
    void nulAndUnpairedSurrogatesAnywhereInTheSpecAreRefusedWithTheirPath() {
        JsonNode spec = JSON.readTree("""
                {"name": "a\\u0000b", "build": {"tags": ["ok", "\\ud800"]}, "k\\u0000": 1, "emoji": "\\ud83d\\ude00"}""");
        ApiException e = catchThrowableOfType(ApiException.class, () -> SpecChecks.requireStorableText(spec));
        assertThat(e.status().value()).isEqualTo(422);
        assertThat(e.errors()).containsExactly(
                "name: must not contain the NUL character (U+0000)",
                "build.tags[1]: must not contain an unpaired UTF-16 surrogate",
                "body: a field name must not contain the NUL character (U+0000)");
    }
}
