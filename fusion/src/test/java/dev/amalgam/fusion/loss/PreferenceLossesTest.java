package dev.amalgam.fusion.loss;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import dev.amalgam.fusion.loss.PreferenceLosses.BaselineChosen;
import dev.amalgam.modelengine.DjlRuntime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class PreferenceLossesTest {

    private NDManager m;

    @BeforeEach
    void open() {
        m = DjlRuntime.newManager(Device.cpu());
    }

    @AfterEach
    void close() {
        m.close();
    }

    private SequenceLogps logps(float ws, float wt, float l) {
        return new SequenceLogps(m.create(new float[] {ws}), m.create(new float[] {wt}), m.create(new float[] {l}));
    }

    @Test
    void wrpoWorkedExampleOfAlgorithmsMd() {
        // beta 0.01, alpha_end 0.1, N 300; policy/ref y_ws -100/-110, y_wt -80/-85, y_l -90/-88.
        AlphaSchedule schedule = AlphaSchedule.linear(0.1, 300);
        LossOutput out = PreferenceLosses.compute(LossType.WRPO, logps(-100, -80, -90), logps(-110, -85, -88), null,
                schedule.alpha(0), 0.01, 0, BaselineChosen.TARGET);
        assertThat((double) out.losses().getFloat(0)).isCloseTo(0.658760, within(5e-7));
        // D(ws) = 10, D(wt) = 5, D(l) = -2; rewards are beta * D, chosen is alpha-weighted (alpha 0 at step 0).
        assertThat((double) out.sourceChosenRewards().getFloat(0)).isCloseTo(0.10, within(1e-7));
        assertThat((double) out.targetChosenRewards().getFloat(0)).isCloseTo(0.05, within(1e-7));
        assertThat((double) out.rejectedRewards().getFloat(0)).isCloseTo(-0.02, within(1e-7));
        assertThat((double) out.chosenRewards().getFloat(0)).isCloseTo(0.05, within(1e-7));
    }

    @Test
    void wrpoMidScheduleAndAfterTheEnd() {
        AlphaSchedule schedule = AlphaSchedule.linear(0.1, 300);
        // Step 150: alpha 0.05, z = 0.01 * (0.05 * 10 + 0.95 * 5 + 2) = 0.0725.
        LossOutput mid = PreferenceLosses.compute(LossType.WRPO, logps(-100, -80, -90), logps(-110, -85, -88), null,
                schedule.alpha(150), 0.01, 0, BaselineChosen.TARGET);
        assertThat((double) mid.losses().getFloat(0)).isCloseTo(Math.log1p(Math.exp(-0.0725)), within(5e-7));
        // Past N: alpha stays 0.1, z = 0.01 * (1 + 4.5 + 2) = 0.075.
        LossOutput late = PreferenceLosses.compute(LossType.WRPO, logps(-100, -80, -90), logps(-110, -85, -88), null,
                schedule.alpha(1000), 0.01, 0, BaselineChosen.TARGET);
        assertThat((double) late.losses().getFloat(0)).isCloseTo(Math.log1p(Math.exp(-0.075)), within(5e-7));
        assertThat((double) late.chosenRewards().getFloat(0)).isCloseTo(0.055, within(1e-7));
    }

    @Test
    void wrpoWithAlphaZeroIsDpoOnTheTargetPair() {
        SequenceLogps p = logps(-30, -12, -20);
        SequenceLogps r = logps(-31, -15, -18);
        float wrpo = PreferenceLosses.compute(LossType.WRPO, p, r, null, 0, 0.5, 0, BaselineChosen.TARGET)
                .losses().getFloat(0);
        float dpo = PreferenceLosses.compute(LossType.DPO, p, r, null, 0.7, 0.5, 0, BaselineChosen.TARGET)
                .losses().getFloat(0);
        assertThat(wrpo).isEqualTo(dpo);
        // beta 0.5 * (3 - (-2)) = 2.5
        assertThat((double) dpo).isCloseTo(Math.log1p(Math.exp(-2.5)), within(1e-6));
        float dpoSource = PreferenceLosses.compute(LossType.DPO, p, r, null, 0, 0.5, 0, BaselineChosen.SOURCE)
                .losses().getFloat(0);
        assertThat((double) dpoSource).isCloseTo(Math.log1p(Math.exp(-0.5 * (1 + 2))), within(1e-6));
    }

    @Test
    void ipoAndSimpoUsePerTokenMeans() {
        SequenceLogps p = logps(-30, -12, -20);
        SequenceLogps r = logps(-31, -15, -18);
        SequenceLogps len = logps(10, 4, 8);
        // IPO, target chosen: d_w = 3/4 = 0.75, d_l = -2/8 = -0.25, beta 0.1: (1 - 5)^2 = 16.
        LossOutput ipo = PreferenceLosses.compute(LossType.IPO, p, r, len, 0, 0.1, 0, BaselineChosen.TARGET);
        assertThat((double) ipo.losses().getFloat(0)).isCloseTo(16.0, within(1e-5));
        // SimPO, beta 2, gamma 0.5: 2 * (-12/4 - (-20/8)) - 0.5 = -1.5.
        LossOutput simpo = PreferenceLosses.compute(LossType.SIMPO, p, null, len, 0, 2, 0.5, BaselineChosen.TARGET);
        assertThat((double) simpo.losses().getFloat(0)).isCloseTo(Math.log1p(Math.exp(1.5)), within(1e-6));
        assertThat((double) simpo.chosenRewards().getFloat(0)).isCloseTo(-6.0, within(1e-6));
    }

    @Test
    void logSigmoidLossIsStableForLargeArguments() {
        float[] v = PreferenceLosses.logSigmoidLoss(m.create(new float[] {-200f, 0f, 200f})).toFloatArray();
        assertThat(v[0]).isCloseTo(200f, within(1e-4f));
        assertThat((double) v[1]).isCloseTo(Math.log(2), within(1e-7));
        assertThat(v[2]).isCloseTo(0f, within(1e-6f));
    }

    @Test
    void lossNamesParseAndUnknownOnesListTheKnown() {
        assertThat(LossType.fromId("simpo")).isEqualTo(LossType.SIMPO);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> LossType.fromId("kto"))
                .hasMessageContaining("wrpo, dpo, ipo, simpo");
    }
}
