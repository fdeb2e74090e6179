package dev.amalgam.fusion.build;

import dev.amalgam.modelengine.text.ChatMessage;
import java.util.List;

/**
 * A prompt with the responses sampled from the source models (and optionally the target's own samples), the input
 * of data construction.
 *
 * @param prompt the conversation to answer
 * @param sourceResponses samples of every source model (the reference: 5 per source, top-p 0.95, T 0.8)
 * @param targetResponses the target's own samples, or empty to have them sampled with the engine's generation
 * @param promptId the data's {@code prompt_id}, or null; carried into the built records
 */
public record PromptCandidates(List<ChatMessage> prompt, List<Candidate> sourceResponses,
        List<Candidate> targetResponses, String promptId) {

    /** Candidates without a prompt id. */
    public PromptCandidates(List<ChatMessage> prompt, List<Candidate> sourceResponses,
            List<Candidate> targetResponses) {
        this(prompt, sourceResponses, targetResponses, null);
    }

    public PromptCandidates {
        prompt = List.copyOf(prompt);
        sourceResponses = List.copyOf(sourceResponses);
        targetResponses = List.copyOf(targetResponses);
        if (prompt.isEmpty()) {
            throw new IllegalArgumentException("prompt must have at least one message");
        }
        if (sourceResponses.isEmpty()) {
            throw new IllegalArgumentException("a prompt needs at least one source response");
        }
    }
}
