package dev.amalgam.platform.jobtype;

import static org.assertj.core.api.Assertions.assertThat;

import dev.amalgam.job.SpecReader;
import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

class JobOptionsTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private static SpecReader read(String json) {
        SpecReader reader = SpecReader.of(JSON.readTree(json));
        JobOptions.read(reader);
        return reader;
    }

    @Test
    void outOfRangeOrNonIntegralOptionsAreProblemsNotExceptions() {
        for (String value : List.of("2147483648", "99999999999999999999999", "1e400", "-1", "0", "11", "2.5", "\"3\"")) {
            assertThat(read("{\"maxAttempts\": " + value + "}").problems()).as(value)
                    .singleElement().asString().startsWith("maxAttempts: must be an integer between 1 and 10");
        }
        for (String value : List.of("2147483648", "-2147483649", "101", "-101", "1e400")) {
            assertThat(read("{\"priority\": " + value + "}").problems()).as(value)
                    .singleElement().asString().startsWith("priority: must be an integer between -100 and 100");
        }
    }

    @Test
    void valuesInRangeAreTakenAndEveryJobTypeHasTheSameDefaults() {
        SpecReader reader = SpecReader.of(JSON.readTree("{\"priority\": -100, \"maxAttempts\": 10}"));
        assertThat(JobOptions.read(reader)).isEqualTo(new JobOptions(-100, 10));
        assertThat(JobOptions.read(SpecReader.of(JSON.readTree("{}")))).isEqualTo(new JobOptions(0, 3));
        assertThat(reader.problems()).isEmpty();
    }
}
