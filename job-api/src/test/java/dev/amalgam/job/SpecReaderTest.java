package dev.amalgam.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

class SpecReaderTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private static SpecReader reader(String json) {
        return SpecReader.of(JSON.readTree(json));
    }

    @Test
    void everyProblemIsCollectedWithItsJsonPath() {
        SpecReader r = reader("""
                {"n": 1.5, "s": 7, "build": {"seed": "x", "extra": 1}, "list": [{"a": true}, 3], "colour": "red"}""");
        r.integer("n", 0, 10, 0);
        r.string("s");
        SpecReader build = r.object("build");
        build.longInteger("seed", 0);
        r.objects("list");
        r.finish();
        assertThat(r.problems()).containsExactly(
                "n: must be an integer between 0 and 10, got 1.5",
                "s: must be a string, got 7",
                "build.seed: must be an integer, got \"x\"",
                "list[1]: must be an object, got 3",
                "colour: unknown field (known: n, s, build, list)",
                "build.extra: unknown field (known: seed)");
    }

    @Test
    void numbersAreCheckedWithoutConversion() {
        SpecReader r = reader("""
                {"big": 2147483648, "huge": 99999999999999999999999, "inf": 1e400, "text": "7", "ok": 3}""");
        assertThat(r.anyInt("big")).isNull();
        assertThat(r.longInteger("huge", -1)).isEqualTo(-1);
        assertThat(r.number("inf", 0, 1)).isNull();
        assertThat(r.anyNumber("text")).isNull();
        assertThat(r.integer("ok", 1, 3, 0)).isEqualTo(3);
        assertThat(r.problems()).containsExactly(
                "big: must be an integer between -2147483648 and 2147483647, got 2147483648",
                "huge: must be an integer between -9223372036854775808 and 9223372036854775807, got 99999999999999999999999",
                "inf: must be a finite number, got Infinity",
                "text: must be a number, got \"7\"");
    }

    @Test
    void absentAndNullFieldsTakeTheirDefaultsAndRequiredOnesAreNamed() {
        SpecReader r = reader("{\"a\": null, \"blank\": \" \"}");
        assertThat(r.integer("a", 0, 9, 4)).isEqualTo(4);
        assertThat(r.string("missing", "dflt")).isEqualTo("dflt");
        assertThat(r.string("a", "dflt")).isEqualTo("dflt");
        assertThat(r.requiredString("blank", "the name")).isNull();
        assertThat(r.requiredString("none", "the model")).isNull();
        assertThat(r.oneOf("a", List.of("x", "y"), "x")).isEqualTo("x");
        r.finish();
        assertThat(r.problems()).containsExactly("blank: the name is required", "none: the model is required");
    }

    @Test
    void allowedFieldsAreNotUnknownAndANonObjectBodyIsOneProblem() {
        SpecReader r = reader("{\"priority\": 1}");
        r.allow("priority");
        r.finish();
        assertThat(r.problems()).isEmpty();
        assertThat(SpecReader.of(JSON.readTree("[1]")).problems()).containsExactly("body: a JSON object is required");
    }
}
