package dev.amalgam.fusion.loss;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class AlphaScheduleTest {

    @Test
    void linearRisesFromZeroToAlphaEndThenStays() {
        AlphaSchedule s = AlphaSchedule.linear(0.1, 300);
        assertThat(s.alpha(0)).isZero();
        assertThat(s.alpha(30)).isCloseTo(0.01, within(1e-15));
        assertThat(s.alpha(150)).isCloseTo(0.05, within(1e-15));
        assertThat(s.alpha(300)).isCloseTo(0.1, within(1e-15));
        assertThat(s.alpha(301)).isCloseTo(0.1, within(1e-15));
        double previous = -1;
        for (long step = 0; step <= 300; step++) {
            assertThat(s.alpha(step)).isGreaterThanOrEqualTo(previous);
            previous = s.alpha(step);
        }
    }

    @Test
    void fixedIsAlphaEndFromTheFirstStep() {
        AlphaSchedule s = AlphaSchedule.fixed(0.3);
        assertThat(s.alpha(0)).isEqualTo(0.3);
        assertThat(s.alpha(10_000)).isEqualTo(0.3);
    }

    @Test
    void rejectsOutOfRangeSettings() {
        assertThatThrownBy(() -> AlphaSchedule.linear(1.5, 10)).hasMessageContaining("alpha_end");
        assertThatThrownBy(() -> AlphaSchedule.linear(0.1, 0)).hasMessageContaining("total steps");
        assertThatThrownBy(() -> AlphaSchedule.linear(0.1, 10).alpha(-1)).hasMessageContaining("step");
    }
}
