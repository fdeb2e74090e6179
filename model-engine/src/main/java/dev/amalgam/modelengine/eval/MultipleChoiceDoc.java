package dev.amalgam.modelengine.eval;

import java.util.List;

/**
 * One multiple-choice question as lm-eval scores it: one (context, continuation) request per choice, the choice
 * strings whose lengths normalise {@code acc_norm}, and the index of the right choice.
 *
 * <p>Most tasks share one context and score {@code " " + choice} as the continuation. Winogrande (lm-eval's
 * "multiple inputs") puts each choice into its own context and scores the shared rest of the sentence; its
 * {@code choices} are then those contexts, exactly as lm-eval's {@code doc_to_choice} returns them.
 *
 * @param requests one per choice, in choice order
 * @param choices the strings lm-eval's {@code doc_to_choice} returns (their length in characters normalises acc_norm)
 * @param gold index of the right choice
 */
public record MultipleChoiceDoc(List<Request> requests, List<String> choices, int gold) {

    /** One log-likelihood request: the summed log-probability of {@code continuation} given {@code context}. */
    public record Request(String context, String continuation) {
    }

    public MultipleChoiceDoc {
        requests = List.copyOf(requests);
        choices = List.copyOf(choices);
        if (requests.isEmpty() || requests.size() != choices.size()) {
            throw new IllegalArgumentException("need one request per choice, at least one; got " + requests.size()
                    + " requests for " + choices.size() + " choices");
        }
        if (gold < 0 || gold >= choices.size()) {
            throw new IllegalArgumentException("gold " + gold + " is not a choice index in [0, " + choices.size() + ")");
        }
    }

    /** A shared context with {@code delimiter + choice} as each continuation (lm-eval's single-input tasks). */
    public static MultipleChoiceDoc sharedContext(String context, List<String> choices, int gold, String delimiter) {
        return new MultipleChoiceDoc(choices.stream().map(c -> new Request(context, delimiter + c)).toList(), choices, gold);
    }
}
