package dev.amalgam.modelengine.judge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The win-rate arithmetic against values computed by hand, and the GLM fit against a naive reference. */
class WinRatesTest {

    @Test
    void alpacaWinRateCountsTiesHalfAndLeavesOutMissingPreferences() {
        // model wins twice (2, 2), loses once (1), one tie (1.5), one weighted 1.8, one without preference
        List<Double> p = Arrays.asList(2.0, 2.0, 1.0, 1.5, 1.8, null);
        WinRates.AlpacaWinRate w = WinRates.alpacaWinRate(p);
        // (1 + 1 + 0 + 0.5 + 0.8) / 5 = 0.66
        assertThat(w.winRate()).isCloseTo(66.0, offset(1e-9));
        assertThat(w.nTotal()).isEqualTo(5);
        assertThat(w.nWins()).isEqualTo(3); // 1.8 - 1 = 0.8 > 0.5
        assertThat(w.nWinsBase()).isEqualTo(1);
        assertThat(w.nDraws()).isEqualTo(1);
        // rounded: 1, 1, 0, 0.5, 1 -> 3.5 / 5
        assertThat(w.discreteWinRate()).isCloseTo(70.0, offset(1e-9));
        // sample sd of {1, 1, 0, .5, .8}: mean .66, squares .1156*2 + .4356 + .0256 + .0196 = .712, /4 = .178
        assertThat(w.standardError()).isCloseTo(Math.sqrt(0.178 / 5) * 100, offset(1e-9));
    }

    @Test
    void alpacaWinRateReadsZeroAsADrawAndRejectsOutOfRange() {
        assertThat(WinRates.alpacaWinRate(List.of(0.0, 2.0)).winRate()).isCloseTo(75.0, offset(1e-9));
        assertThatThrownBy(() -> WinRates.alpacaWinRate(List.of(2.5))).hasMessageContaining("[1, 2]");
    }

    @Test
    void lengthControlledWithEqualLengthsIsTheRegularisedLogitOfTheMeanPreference() {
        // no length differences: the length feature is 0 and theta solves theta + C * sum(sigmoid(theta) - y) = 0
        List<Double> p = List.of(2.0, 2.0, 2.0, 1.0);
        int[] len = {10, 10, 10, 10};
        WinRates.LengthControlled lc = WinRates.lengthControlled(p, len, len);
        double lo = -10;
        double hi = 10;
        for (int i = 0; i < 200; i++) { // bisection on the gradient, an independent 1-D reference
            double mid = (lo + hi) / 2;
            double g = mid + 100 * (4 * sigmoid(mid) - 3);
            if (g > 0) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        assertThat(lc.theta()).isCloseTo(lo, offset(1e-9));
        assertThat(lc.winRate()).isCloseTo(sigmoid(lo) * 100, offset(1e-9));
        assertThat(lc.winRate()).isCloseTo(75.0, offset(0.5)); // pulled a little from 3/4 by the penalty
        assertThat(WinRates.lengthControlled(List.of(2.0, 1.0), new int[] {5, 9}, new int[] {5, 9}).winRate())
                .isCloseTo(50.0, offset(1e-12));
    }

    @Test
    void lengthControlledFitMatchesPlainGradientDescentAndRemovesALengthBias() {
        // the model wins exactly when its output is the longer one: the length term takes it all
        Random r = new Random(3);
        int n = 60;
        int[] len1 = new int[n];
        int[] len2 = new int[n];
        List<Double> p = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            len1[i] = 100 + r.nextInt(200);
            // the model's output is the longer one four times in five: its raw win rate is inflated
            len2[i] = r.nextInt(5) == 0 ? len1[i] - 1 - r.nextInt(80) : len1[i] + 1 + r.nextInt(80);
            p.add(len2[i] > len1[i] ? 1.9 : 1.1);
        }
        WinRates.LengthControlled lc = WinRates.lengthControlled(p, len1, len2);
        double raw = WinRates.alpacaWinRate(p).winRate();
        // reference: the same objective minimised by plain gradient descent
        double sd = sdOfDelta(len1, len2);
        double t = 0;
        double b = 0;
        double c = 100;
        for (int it = 0; it < 40_000; it++) {
            double gt = t;
            double gb = b;
            for (int i = 0; i < n; i++) {
                double x = Math.tanh((len1[i] - len2[i]) / sd);
                double e = sigmoid(t + b * x) - (p.get(i) - 1);
                gt += c * e;
                gb += c * e * x;
            }
            t -= 4e-4 * gt;
            b -= 4e-4 * gb;
        }
        assertThat(lc.theta()).isCloseTo(t, offset(1e-4));
        assertThat(lc.beta()).isCloseTo(b, offset(1e-4));
        assertThat(lc.beta()).isNegative(); // longer baseline (positive delta) -> the model loses
        assertThat(raw).isGreaterThan(65);
        // at equal lengths the model wins half the time: the length-controlled rate is far nearer to that than the raw
        assertThat(Math.abs(lc.winRate() - 50)).isLessThan(Math.abs(raw - 50) / 2);
    }

    @Test
    void arenaBattleScoresScoreGameTwoFromTheModelAndOneMinusGameOne() {
        // game 1 (baseline is A): A>>B, baseline strongly better -> 1 - [1,1,1]; game 2 (model is A): A>B -> [1]
        assertThat(WinRates.battleScores("A>>B", "A>B")).containsExactly(1, 0, 0, 0);
        assertThat(WinRates.battleScores("B>A", "A=B")).containsExactly(0.5, 1);
        assertThat(WinRates.battleScores(null, "A=B")).isNull();
        assertThat(WinRates.battleScores("A>B", "A>>>B")).isNull();
    }

    @Test
    void arenaScoreIsTheBootstrapMeanWithQuantilesAroundThePlainMean() {
        double[] scores = {1, 0, 0, 0, 0.5, 1};
        WinRates.ArenaScore s = WinRates.arenaScore(scores, 2, 0);
        assertThat(s.rawScore()).isCloseTo(2.5 / 6, offset(1e-12));
        assertThat(s.battles()).isEqualTo(6);
        assertThat(s.lower()).isLessThanOrEqualTo(s.score());
        assertThat(s.upper()).isGreaterThanOrEqualTo(s.score());
        assertThat(s.score()).isCloseTo(2.5 / 6, offset(0.08));
        // the same seed gives the same report
        assertThat(WinRates.arenaScore(scores, 2, 0)).isEqualTo(s);
        // all battles equal: no spread
        WinRates.ArenaScore flat = WinRates.arenaScore(new double[] {1, 1, 1}, 1, 0);
        assertThat(flat.lower()).isEqualTo(1.0);
        assertThat(flat.upper()).isEqualTo(1.0);
    }

    @Test
    void quantileInterpolatesLinearlyAsNumpy() {
        // numpy.quantile([1, 2, 3, 4], 0.05) = 1 + 0.15 * (2 - 1) = 1.15
        assertThat(WinRates.quantile(new double[] {4, 1, 3, 2}, 0.05)).isCloseTo(1.15, offset(1e-12));
        assertThat(WinRates.quantile(new double[] {4, 1, 3, 2}, 0.95)).isCloseTo(3.85, offset(1e-12));
    }

    private static double sdOfDelta(int[] a, int[] b) {
        double[] d = new double[a.length];
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i] - b[i];
            m += d[i];
        }
        m /= a.length;
        double s = 0;
        for (double v : d) {
            s += (v - m) * (v - m);
        }
        return Math.sqrt(s / (a.length - 1));
    }

    private static double sigmoid(double z) {
        return 1 / (1 + Math.exp(-z));
    }
}
