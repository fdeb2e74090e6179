package dev.amalgam.pruningservice;

import io.swagger.v3.oas.annotations.media.ArraySchema;
import io.swagger.v3.oas.annotations.media.Schema;
import java.util.List;

/**
 * The result of a judge job (its {@code result} once SUCCEEDED): the judgments DATASET and the benchmark's report;
 * exactly one of {@code mtBench}, {@code alpacaEval} and {@code arenaHard} is set, the one of the benchmark.
 */
@Schema(description = "The result of a judge job", example = """
        {"benchmark": "mt_bench", "judgeModel": "gpt-4", "judgments": "3f1c2a9e-0000-4000-8000-000000000001",
         "judged": 160, "unparsed": 1,
         "mtBench": {"overall": 6.84, "turn1": 7.10, "turn2": 6.58,
                     "categories": [{"category": "math", "score": 4.2, "count": 20},
                                    {"category": "writing", "score": 8.1, "count": 20}]},
         "alpacaEval": null, "arenaHard": null}""")
public record JudgeJobResult(
        @Schema(description = "the benchmark judged", requiredMode = Schema.RequiredMode.REQUIRED) String benchmark,
        @Schema(description = "the judge model at the endpoint", requiredMode = Schema.RequiredMode.REQUIRED) String judgeModel,
        @Schema(description = "the judgments DATASET (one JSONL record per judge request)",
                requiredMode = Schema.RequiredMode.REQUIRED) String judgments,
        @Schema(description = "judge requests answered", requiredMode = Schema.RequiredMode.REQUIRED) int judged,
        @Schema(description = "answers whose verdict could not be read (left out of the scores)",
                requiredMode = Schema.RequiredMode.REQUIRED) int unparsed,
        @Schema(description = "MT-Bench scores; null for the other benchmarks", requiredMode = Schema.RequiredMode.REQUIRED,
                nullable = true) MtBenchScores mtBench,
        @Schema(description = "AlpacaEval win rates; null for the other benchmarks", requiredMode = Schema.RequiredMode.REQUIRED,
                nullable = true) AlpacaEvalScores alpacaEval,
        @Schema(description = "Arena-Hard score; null for the other benchmarks", requiredMode = Schema.RequiredMode.REQUIRED,
                nullable = true) ArenaHardScores arenaHard) {

    /** MT-Bench: mean 1..10 ratings; a mean is null when no judgment of it has a rating. */
    @Schema(description = "MT-Bench mean ratings (1..10), as FastChat's show_result")
    public record MtBenchScores(
            @Schema(description = "mean over every rated turn", requiredMode = Schema.RequiredMode.REQUIRED, nullable = true)
            Double overall,
            @Schema(description = "mean of the first turns", requiredMode = Schema.RequiredMode.REQUIRED, nullable = true)
            Double turn1,
            @Schema(description = "mean of the second turns", requiredMode = Schema.RequiredMode.REQUIRED, nullable = true)
            Double turn2,
            @ArraySchema(arraySchema = @Schema(description = "mean per category, by name", requiredMode = Schema.RequiredMode.REQUIRED))
            List<CategoryScore> categories) {
        public MtBenchScores {
            categories = List.copyOf(categories);
        }
    }

    /** One MT-Bench category's mean. */
    @Schema(description = "An MT-Bench category's mean rating")
    public record CategoryScore(
            @Schema(description = "the category", requiredMode = Schema.RequiredMode.REQUIRED) String category,
            @Schema(description = "mean rating", requiredMode = Schema.RequiredMode.REQUIRED) double score,
            @Schema(description = "rated turns", requiredMode = Schema.RequiredMode.REQUIRED) int count) {
    }

    /** AlpacaEval: percentages, the model against the baseline. */
    @Schema(description = "AlpacaEval win rates in percent (model against baseline)")
    public record AlpacaEvalScores(
            @Schema(description = "the model's generator name", requiredMode = Schema.RequiredMode.REQUIRED) String model,
            @Schema(description = "the baseline's generator name", requiredMode = Schema.RequiredMode.REQUIRED) String baseline,
            @Schema(description = "mean of (preference - 1) * 100; a tie counts half", requiredMode = Schema.RequiredMode.REQUIRED)
            double winRate,
            @Schema(description = "standard error of winRate; null for one annotation",
                    requiredMode = Schema.RequiredMode.REQUIRED, nullable = true) Double standardError,
            @Schema(description = "win rate with each preference rounded to a win or a loss (1.5 a tie)",
                    requiredMode = Schema.RequiredMode.REQUIRED) double discreteWinRate,
            @Schema(description = "length-controlled win rate: the GLM's prediction at equal lengths, fitted on this job's "
                    + "annotations only (no instruction-difficulty term); see docs/evaluation.md",
                    requiredMode = Schema.RequiredMode.REQUIRED) double lengthControlledWinRate,
            @Schema(description = "the GLM's model term", requiredMode = Schema.RequiredMode.REQUIRED) double lcModelTerm,
            @Schema(description = "the GLM's length term (on tanh of the standardised length difference)",
                    requiredMode = Schema.RequiredMode.REQUIRED) double lcLengthTerm,
            @Schema(description = "annotations the model won", requiredMode = Schema.RequiredMode.REQUIRED) int nWins,
            @Schema(description = "annotations the baseline won", requiredMode = Schema.RequiredMode.REQUIRED) int nWinsBase,
            @Schema(description = "ties", requiredMode = Schema.RequiredMode.REQUIRED) int nDraws,
            @Schema(description = "annotations with a preference", requiredMode = Schema.RequiredMode.REQUIRED) int nTotal) {
    }

    /** Arena-Hard: percentages, the model's score against the baseline. */
    @Schema(description = "Arena-Hard-Auto score in percent against the baseline, with its bootstrap interval")
    public record ArenaHardScores(
            @Schema(description = "the model", requiredMode = Schema.RequiredMode.REQUIRED) String model,
            @Schema(description = "the baseline", requiredMode = Schema.RequiredMode.REQUIRED) String baseline,
            @Schema(description = "mean of 100 bootstrap means of the battle scores, * 100",
                    requiredMode = Schema.RequiredMode.REQUIRED) double score,
            @Schema(description = "5% quantile of the bootstrap means, * 100", requiredMode = Schema.RequiredMode.REQUIRED)
            double lower,
            @Schema(description = "95% quantile of the bootstrap means, * 100", requiredMode = Schema.RequiredMode.REQUIRED)
            double upper,
            @Schema(description = "plain mean of the battle scores, * 100", requiredMode = Schema.RequiredMode.REQUIRED)
            double rawScore,
            @Schema(description = "battle scores (a strong verdict counts three)", requiredMode = Schema.RequiredMode.REQUIRED)
            int battles,
            @Schema(description = "questions with both games read", requiredMode = Schema.RequiredMode.REQUIRED) int questions) {
    }
}
