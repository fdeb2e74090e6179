package dev.amalgam.modelengine.answers;

import java.util.List;

/**
 * The answers to one question.
 *
 * @param question the question
 * @param temperature the temperature its answers were sampled at (0: greedy)
 * @param choices one list of turns per choice ({@code choices.get(c).get(j)}: choice c's answer to user turn j)
 */
public record BenchmarkAnswer(BenchmarkQuestion question, double temperature, List<List<AnswerTurn>> choices) {

    public BenchmarkAnswer {
        choices = choices.stream().map(List::copyOf).toList();
    }
}
