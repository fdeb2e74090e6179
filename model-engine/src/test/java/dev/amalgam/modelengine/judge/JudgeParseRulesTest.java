package dev.amalgam.modelengine.judge;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The benchmarks' verdict parsing, on judge outputs written by hand. */
class JudgeParseRulesTest {

    @Test
    void mtBenchRatingIsTheFirstDoubleBracketNumberElseTheFirstSingleBracketElseMinusOne() {
        assertThat(MtBench.rating("The answer is fine.\n\nRating: [[8]]")).isEqualTo(8);
        assertThat(MtBench.rating("Rating: [[6.5]] and later [[9]]")).isEqualTo(6.5);
        // the double-bracket form wins even when a single-bracket number comes first
        assertThat(MtBench.rating("See [3] above. Rating: [[7]]")).isEqualTo(7);
        assertThat(MtBench.rating("Rating: [4]")).isEqualTo(4);
        assertThat(MtBench.rating("Rating: [[5.]]")).isEqualTo(5);
        assertThat(MtBench.rating("Rating: 8/10")).isEqualTo(-1);
        assertThat(MtBench.rating("Rating: [[eight]]")).isEqualTo(-1);
        assertThat(MtBench.rating("[[-3]]")).isEqualTo(-1);
    }

    @Test
    void arenaHardLabelIsTheLastMatchOfTheFirstPatternThatMatchesInUpperCase() {
        assertThat(ArenaHard.label("My final verdict is tie: [[A=B]]")).isEqualTo("A=B");
        assertThat(ArenaHard.label("Earlier [[A>B]], but on reflection: [[b>>a]]")).isEqualTo("B>>A");
        // a double-bracket label anywhere beats a later single-bracket one
        assertThat(ArenaHard.label("[[A>B]] ... final: [B>A]")).isEqualTo("A>B");
        assertThat(ArenaHard.label("Verdict: [A>>B]")).isEqualTo("A>>B");
        assertThat(ArenaHard.label("Assistant A is better.")).isNull();
        assertThat(ArenaHard.label("[[C]]")).isNull();
    }

    @Test
    void arenaHardLabelScoresCountStrongVerdictsThreeTimes() {
        assertThat(ArenaHard.labelScores("A>>B", 3)).containsExactly(1, 1, 1);
        assertThat(ArenaHard.labelScores("A>B", 3)).containsExactly(1);
        assertThat(ArenaHard.labelScores("A=B", 3)).containsExactly(0.5);
        assertThat(ArenaHard.labelScores("B>A", 3)).containsExactly(0);
        assertThat(ArenaHard.labelScores("B>>A", 3)).containsExactly(0, 0, 0);
        assertThat(ArenaHard.labelScores("B<<A", 3)).containsExactly(1, 1, 1);
        assertThat(ArenaHard.labelScores("A>>>B", 3)).isNull();
    }

    @Test
    void alpacaTextPreferenceIsExactlyMOrBigM() {
        assertThat(AlpacaEval.textPreference("m")).isEqualTo(1.0);
        assertThat(AlpacaEval.textPreference(" M\n")).isEqualTo(2.0);
        assertThat(AlpacaEval.textPreference("Model M")).isNull();
        assertThat(AlpacaEval.textPreference("")).isNull();
    }

    @Test
    void alpacaWeightedPreferenceIsTwoMinusTheShareOfMAmongMAndBigM() {
        // p(m) = e^-1, p(M) = e^-2: share e^-1 / (e^-1 + e^-2) = 1 / (1 + e^-1)
        double share = 1 / (1 + Math.exp(-1));
        assertThat(AlpacaEval.weightedPreference(List.of(new ChatClient.TokenLogprob("m", -1),
                new ChatClient.TokenLogprob("M", -2), new ChatClient.TokenLogprob("The", -0.5))))
                .isCloseTo(2 - share, org.assertj.core.data.Offset.offset(1e-12));
        // a token outside the top 5 has probability 0
        assertThat(AlpacaEval.weightedPreference(List.of(new ChatClient.TokenLogprob("M", -3)))).isEqualTo(2.0);
        assertThat(AlpacaEval.weightedPreference(List.of(new ChatClient.TokenLogprob("m", -3)))).isEqualTo(1.0);
        assertThat(AlpacaEval.weightedPreference(List.of(new ChatClient.TokenLogprob("Both", -0.1)))).isNull();
        // equal probabilities: a tie
        assertThat(AlpacaEval.weightedPreference(List.of(new ChatClient.TokenLogprob("m", -0.7),
                new ChatClient.TokenLogprob("M", -0.7)))).isEqualTo(1.5);
    }
}
