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

    @Test
    void aQueryStringTomcatCannotDecodeAnswers400() {
        var answer = new ProblemHandler().undecodableParameters(
                new org.apache.tomcat.util.http.InvalidParameterException("Character decoding failed"));
        assertThat(answer.getStatusCode().value()).isEqualTo(400);
        assertThat(answer.getBody().getType()).isEqualTo(ProblemType.BAD_REQUEST.uri());
    }

    @Test
    void springsOwnRequestErrorsKeepTheirStatus() {
        var answer = new ProblemHandler().unexpected(new org.springframework.web.HttpMediaTypeNotAcceptableException("no match"));
        assertThat(answer.getStatusCode().value()).isEqualTo(406);
        assertThat(answer.getHeaders().getContentType()).hasToString("application/problem+json");
    }

    @Test
    void aRequestBodyTomcatCannotReadIsTheClientsError() {
        var proxied = new org.springframework.web.client.ResourceAccessException("I/O error on POST request",
                new org.apache.coyote.BadRequestException("Invalid chunk header"));
        var answer = new ProblemHandler().unexpected(proxied);
        assertThat(answer.getStatusCode().value()).isEqualTo(400);
        assertThat(answer.getBody().getDetail()).doesNotContain("chunk header");
    }

    @Test
    void aFullDiskAnswers507WithoutPathsAndAnyOtherIoErrorStays500() throws Exception {
        // a real ENOSPC, as the JDK reports it: /dev/full refuses every write with it
        java.io.IOException full = org.assertj.core.api.Assertions.catchThrowableOfType(java.io.IOException.class,
                () -> java.nio.file.Files.write(java.nio.file.Path.of("/dev/full"), new byte[1]));
        assertThat(full).as("/dev/full exists on Linux").isNotNull();
        var answer = new ProblemHandler().unexpected(new java.io.UncheckedIOException("Could not store the upload", full));
        assertThat(answer.getStatusCode().value()).isEqualTo(507);
        assertThat(answer.getBody().getType()).isEqualTo(ProblemType.INSUFFICIENT_STORAGE.uri());
        assertThat(answer.getBody().getDetail()).doesNotContain("/dev").contains("storage is full");
        var other = new ProblemHandler().unexpected(new java.io.UncheckedIOException("x", new java.io.IOException("Input/output error")));
        assertThat(other.getStatusCode().value()).isEqualTo(500);
    }
}
