package dev.amalgam.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The CLI's progress line: counts only where units are counted. */
class ProgressBarTest {

    @Test
    void aFractionShowsAPercentageAndNoCountsThatLookLikeSteps() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ProgressBar bar = new ProgressBar(new PrintStream(bytes, true, StandardCharsets.UTF_8), "fusing");
        bar.fraction(0.523, "wrpo step 12 of 40");
        String line = bytes.toString(StandardCharsets.UTF_8);
        assertThat(line).contains(" 52%").contains("wrpo step 12 of 40").doesNotContain("/1000").doesNotContain("523");
    }

    @Test
    void unitsShowDoneOverTotalAndTheLastOneEndsTheLine() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ProgressBar bar = new ProgressBar(new PrintStream(bytes, true, StandardCharsets.UTF_8), "merging");
        bar.update(3, 3, "lm_head.weight");
        assertThat(bytes.toString(StandardCharsets.UTF_8)).contains("100% 3/3").endsWith(System.lineSeparator());
    }
}
