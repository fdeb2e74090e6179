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

    private static List<String> settingsProblems(String spec) {
        List<String> errors = new ArrayList<>();
        SpecChecks.jobSettings(JSON.readTree(spec), 3, errors);
        return errors;
    }

    @Test
    void jobSettingsOutOfRangeOrNotIntegralAreProblemsNotExceptions() {
        for (String value : List.of("2147483648", "99999999999999999999999", "1e400", "-1", "0", "11", "2.5", "\"3\"")) {
            assertThat(settingsProblems("{\"maxAttempts\": " + value + "}")).as(value)
                    .singleElement().asString().startsWith("maxAttempts: must be an integer between 1 and 10");
        }
        for (String value : List.of("2147483648", "-2147483649", "101", "-101", "1e400")) {
            assertThat(settingsProblems("{\"priority\": " + value + "}")).as(value)
                    .singleElement().asString().startsWith("priority: must be an integer between -100 and 100");
        }
    }

    @Test
    void jobSettingsTakeTheValuesInRangeAndTheDefaultsOtherwise() {
        List<String> errors = new ArrayList<>();
        assertThat(SpecChecks.jobSettings(JSON.readTree("{\"priority\": -100, \"maxAttempts\": 10}"), 3, errors))
                .isEqualTo(new SpecChecks.JobSettings(-100, 10));
        assertThat(SpecChecks.jobSettings(JSON.readTree("{}"), 3, errors)).isEqualTo(new SpecChecks.JobSettings(0, 3));
        assertThat(errors).isEmpty();
    }

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
