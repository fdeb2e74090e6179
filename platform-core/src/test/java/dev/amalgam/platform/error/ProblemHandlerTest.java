package dev.amalgam.platform.error;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Error answers speak of the API, never of the Java classes behind it. */
class ProblemHandlerTest {

    @Test
    void jacksonsTypeNamesAreReducedToTheirSimpleNames() {
        String jackson = "Cannot deserialize value of type `dev.amalgam.platform.artifact.ArtifactKind` from String \"BOGUS\": "
                + "not one of the values accepted for Enum class: [MODEL, DATASET, REPORT, CHECKPOINT]";
        assertThat(ProblemHandler.withoutJavaNames(jackson))
                .isEqualTo("Cannot deserialize value of type ArtifactKind from String \"BOGUS\": "
                        + "not one of the values accepted for Enum class: [MODEL, DATASET, REPORT, CHECKPOINT]");
    }

    @Test
    void springsConversionMessagesLoseTheirPackages() {
        String spring = "Failed to convert value of type 'java.lang.String' to required type 'java.util.UUID'; Invalid UUID string: x";
        assertThat(ProblemHandler.withoutJavaNames(spring)).doesNotContain("java.").contains("'String'").contains("'UUID'");
    }

    @Test
    void textWithoutClassNamesIsLeftAsItIs() {
        assertThat(ProblemHandler.withoutJavaNames("Unexpected end-of-input: expected close marker for Object"))
                .isEqualTo("Unexpected end-of-input: expected close marker for Object");
        assertThat(ProblemHandler.withoutJavaNames("file config.json is not valid")).isEqualTo("file config.json is not valid");
    }
}
