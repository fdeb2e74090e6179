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
                schedule.alpha(0), 0.01, 0, 0, BaselineChosen.TARGET);
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
                schedule.alpha(150), 0.01, 0, 0, BaselineChosen.TARGET);
        assertThat((double) mid.losses().getFloat(0)).isCloseTo(Math.log1p(Math.exp(-0.0725)), within(5e-7));
        // Past N: alpha stays 0.1, z = 0.01 * (1 + 4.5 + 2) = 0.075.
        LossOutput late = PreferenceLosses.compute(LossType.WRPO, logps(-100, -80, -90), logps(-110, -85, -88), null,
                schedule.alpha(1000), 0.01, 0, 0, BaselineChosen.TARGET);
        assertThat((double) late.losses().getFloat(0)).isCloseTo(Math.log1p(Math.exp(-0.075)), within(5e-7));
        assertThat((double) late.chosenRewards().getFloat(0)).isCloseTo(0.055, within(1e-7));
    }

    @Test
    void wrpoWithAlphaZeroIsDpoOnTheTargetPair() {
        SequenceLogps p = logps(-30, -12, -20);
        SequenceLogps r = logps(-31, -15, -18);
        float wrpo = PreferenceLosses.compute(LossType.WRPO, p, r, null, 0, 0.5, 0, 0, BaselineChosen.TARGET)
                .losses().getFloat(0);
        float dpo = PreferenceLosses.compute(LossType.DPO, p, r, null, 0.7, 0.5, 0, 0, BaselineChosen.TARGET)
                .losses().getFloat(0);
        assertThat(wrpo).isEqualTo(dpo);
        // beta 0.5 * (3 - (-2)) = 2.5
        assertThat((double) dpo).isCloseTo(Math.log1p(Math.exp(-2.5)), within(1e-6));
        float dpoSource = PreferenceLosses.compute(LossType.DPO, p, r, null, 0, 0.5, 0, 0, BaselineChosen.SOURCE)
                .losses().getFloat(0);
        assertThat((double) dpoSource).isCloseTo(Math.log1p(Math.exp(-0.5 * (1 + 2))), within(1e-6));
    }

    @Test
    void ipoAndSimpoUsePerTokenMeans() {
        SequenceLogps p = logps(-30, -12, -20);
        SequenceLogps r = logps(-31, -15, -18);
        SequenceLogps len = logps(10, 4, 8);
        // IPO, target chosen: d_w = 3/4 = 0.75, d_l = -2/8 = -0.25, beta 0.1: (1 - 5)^2 = 16.
        LossOutput ipo = PreferenceLosses.compute(LossType.IPO, p, r, len, 0, 0.1, 0, 0, BaselineChosen.TARGET);
        assertThat((double) ipo.losses().getFloat(0)).isCloseTo(16.0, within(1e-5));
        // SimPO, beta 2, gamma 0.5: 2 * (-12/4 - (-20/8)) - 0.5 = -1.5.
        LossOutput simpo = PreferenceLosses.compute(LossType.SIMPO, p, null, len, 0, 2, 0.5, 0, BaselineChosen.TARGET);
        assertThat((double) simpo.losses().getFloat(0)).isCloseTo(Math.log1p(Math.exp(1.5)), within(1e-6));
        assertThat((double) simpo.chosenRewards().getFloat(0)).isCloseTo(-6.0, within(1e-6));
    }

    @Test
    void labelSmoothingOfTheWorkedExampleAddsLsTimesTheMargin() {
        // -(1 - ls) log s(z) - ls log s(-z) = softplus(-z) + ls z, since softplus(z) - softplus(-z) = z.
        // Worked example at step 0: z = 0.01 * (5 + 2) = 0.07, plain loss 0.658760; ls 0.1 adds 0.007.
        LossOutput out = PreferenceLosses.compute(LossType.WRPO, logps(-100, -80, -90), logps(-110, -85, -88), null,
                0, 0.01, 0, 0.1, BaselineChosen.TARGET);
        assertThat((double) out.losses().getFloat(0)).isCloseTo(0.665760, within(5e-7));
        // Rewards do not depend on the smoothing.
        assertThat((double) out.chosenRewards().getFloat(0)).isCloseTo(0.05, within(1e-7));
    }

    @Test
    void dpoMultiIsTheMeanOfTheTwoChosenDpoTerms() {
        SequenceLogps p = logps(-30, -12, -20);
        SequenceLogps r = logps(-31, -15, -18);
        // D(ws) = 1, D(wt) = 3, D(l) = -2; beta 0.5: z_ws = 1.5, z_wt = 2.5.
        LossOutput out = PreferenceLosses.compute(LossType.DPO_MULTI, p, r, null, 0.9, 0.5, 7, 0,
                BaselineChosen.SOURCE);
        double expected = (Math.log1p(Math.exp(-1.5)) + Math.log1p(Math.exp(-2.5))) / 2; // 0.1401515
        assertThat((double) out.losses().getFloat(0)).isCloseTo(expected, within(1e-6));
        assertThat((double) out.losses().getFloat(0)).isCloseTo(0.1401515, within(1e-6));
        // Its chosen reward is the mean of the two: 0.5 * (1 + 3) / 2 = 1.
        assertThat((double) out.chosenRewards().getFloat(0)).isCloseTo(1.0, within(1e-6));
        assertThat((double) out.sourceChosenRewards().getFloat(0)).isCloseTo(0.5, within(1e-6));
        assertThat((double) out.targetChosenRewards().getFloat(0)).isCloseTo(1.5, within(1e-6));
        assertThat((double) out.rejectedRewards().getFloat(0)).isCloseTo(-1.0, within(1e-6));
        // Equal to averaging the two one-chosen DPO losses; alpha, gamma and baselineChosen play no part.
        float viaSource = PreferenceLosses.compute(LossType.DPO, p, r, null, 0, 0.5, 0, 0, BaselineChosen.SOURCE)
                .losses().getFloat(0);
        float viaTarget = PreferenceLosses.compute(LossType.DPO, p, r, null, 0, 0.5, 0, 0, BaselineChosen.TARGET)
                .losses().getFloat(0);
        assertThat(out.losses().getFloat(0)).isCloseTo((viaSource + viaTarget) / 2, within(1e-6f));
        // ls 0.2 adds 0.2 * (1.5 + 2.5) / 2 = 0.4.
        LossOutput smoothed = PreferenceLosses.compute(LossType.DPO_MULTI, p, r, null, 0, 0.5, 0, 0.2,
                BaselineChosen.TARGET);
        assertThat((double) smoothed.losses().getFloat(0)).isCloseTo(0.5401515, within(1e-6));
    }

    @Test
    void labelSmoothingAppliesToDpoAndSimpoAsTrlDefinesIt() {
        SequenceLogps p = logps(-30, -12, -20);
        SequenceLogps r = logps(-31, -15, -18);
        SequenceLogps len = logps(10, 4, 8);
        // DPO on (y_wt, y_l), beta 0.5: z = 2.5; ls 0.25: 0.75 softplus(-2.5) + 0.25 softplus(2.5).
        LossOutput dpo = PreferenceLosses.compute(LossType.DPO, p, r, null, 0, 0.5, 0, 0.25, BaselineChosen.TARGET);
        assertThat((double) dpo.losses().getFloat(0)).isCloseTo(0.7038897, within(1e-6));
        // SimPO, beta 2, gamma 0.5: z = -1.5; ls 0.3: 0.7 softplus(1.5) + 0.3 softplus(-1.5).
        LossOutput simpo = PreferenceLosses.compute(LossType.SIMPO, p, null, len, 0, 2, 0.5, 0.3,
                BaselineChosen.TARGET);
        assertThat((double) simpo.losses().getFloat(0)).isCloseTo(1.2514133, within(1e-6));
    }

    @Test
    void labelSmoothingOutsideItsRangeOrWithIpoIsRefused() {
        SequenceLogps p = logps(-30, -12, -20);
        SequenceLogps r = logps(-31, -15, -18);
        SequenceLogps len = logps(10, 4, 8);
        for (double bad : new double[] {0.5, -0.01, Double.NaN}) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> PreferenceLosses.compute(LossType.DPO, p, r, null,
                    0, 0.5, 0, bad, BaselineChosen.TARGET)).hasMessageContaining("label smoothing must be in [0, 0.5)");
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> PreferenceLosses.compute(LossType.IPO, p, r, len, 0,
                0.1, 0, 0.1, BaselineChosen.TARGET)).hasMessageContaining("ipo has no label smoothing");
    }

    @Test
    void smoothedGradientsMatchTheirClosedFormAndVanishAtTheSmoothedOptimum() {
        // dS_ls/dz = -(1 - ls) sigmoid(-z) + ls sigmoid(z), zero at z* = ln((1 - ls) / ls).
        double ls = 0.1;
        double beta = 0.5;
        // Two records: D = (1, 3, -2) as above, and one whose source and target margins both sit at z*.
        double zStar = Math.log((1 - ls) / ls);
        float dl = (float) (-zStar / beta); // D(ws) = D(wt) = 0, D(l) = -z* / beta
        try (NDManager g = m.newSubManager();
                ai.djl.training.GradientCollector gc = dev.amalgam.modelengine.DjlRuntime.engine()
                        .newGradientCollector()) {
            ai.djl.ndarray.NDArray ws = g.create(new float[] {-30, -5});
            ai.djl.ndarray.NDArray wt = g.create(new float[] {-12, -6});
            ai.djl.ndarray.NDArray l = g.create(new float[] {-20, -7 + dl});
            ws.setRequiresGradient(true);
            wt.setRequiresGradient(true);
            l.setRequiresGradient(true);
            SequenceLogps ref = new SequenceLogps(g.create(new float[] {-31, -5}), g.create(new float[] {-15, -6}),
                    g.create(new float[] {-18, -7}));
            LossOutput out = PreferenceLosses.compute(LossType.DPO_MULTI, new SequenceLogps(ws, wt, l), ref, null, 0,
                    beta, 0, ls, BaselineChosen.TARGET);
            gc.backward(out.losses().sum());
            float[] gws = ws.getGradient().toFloatArray();
            float[] gwt = wt.getGradient().toFloatArray();
            float[] gl = l.getGradient().toFloatArray();
            double dws = 0.5 * beta * slope(1.5, ls);
            double dwt = 0.5 * beta * slope(2.5, ls);
            assertThat((double) gws[0]).isCloseTo(dws, within(1e-6));
            assertThat((double) gwt[0]).isCloseTo(dwt, within(1e-6));
            assertThat((double) gl[0]).isCloseTo(-(dws + dwt), within(1e-6));
            assertThat((double) gws[1]).isCloseTo(0, within(1e-6));
            assertThat((double) gwt[1]).isCloseTo(0, within(1e-6));
            assertThat((double) gl[1]).isCloseTo(0, within(1e-6));
        }
    }

    private static double slope(double z, double ls) {
        return -(1 - ls) / (1 + Math.exp(z)) + ls / (1 + Math.exp(-z));
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
                .hasMessageContaining("wrpo, dpo, dpo_multi, ipo, simpo");
        assertThat(LossType.fromId("dpo_multi")).isEqualTo(LossType.DPO_MULTI);
    }
}
