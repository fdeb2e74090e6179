package dev.amalgam.fusion.data;

import dev.amalgam.modelengine.text.ChatMessage;
import java.util.List;

/**
 * One line of a WRPO dataset, in the reference format: a prompt, {@code chosen = [source-best, target-best]} and
 * {@code rejected = [target-worst]}. SFT records carry only {@code chosen = [source-best]}. A preference record with a
 * single chosen response (plain DPO data) uses it as both source and target chosen, which reduces WRPO to DPO.
 *
 * @param prompt the conversation up to the answer (a plain-text prompt is one user message)
 * @param chosen one or two responses: source-best, then target-best
 * @param rejected empty for SFT records, else exactly one response: target-worst
 * @param split the stage the record feeds
 * @param promptId the published data's {@code prompt_id}, or null; carried through and written back
 */
public record PreferenceRecord(List<ChatMessage> prompt, List<String> chosen, List<String> rejected, Split split,
        String promptId) {

    /** A record without a prompt id. */
    public PreferenceRecord(List<ChatMessage> prompt, List<String> chosen, List<String> rejected, Split split) {
        this(prompt, chosen, rejected, split, null);
    }

    public PreferenceRecord {
        prompt = List.copyOf(prompt);
        chosen = List.copyOf(chosen);
        rejected = List.copyOf(rejected);
        if (prompt.isEmpty()) {
            throw new IllegalArgumentException("prompt must have at least one message");
        }
        if (chosen.isEmpty() || chosen.size() > 2) {
            throw new IllegalArgumentException("chosen must hold 1 or 2 responses (source-best, target-best), got "
                    + chosen.size());
        }
        if (split == Split.PREFERENCE && rejected.size() != 1) {
            throw new IllegalArgumentException("a preference record needs exactly one rejected response, got "
                    + rejected.size());
        }
    }

    /** A preference record from a single-turn prompt. */
    public static PreferenceRecord preference(String prompt, String sourceChosen, String targetChosen, String rejected) {
        return new PreferenceRecord(List.of(ChatMessage.user(prompt)), List.of(sourceChosen, targetChosen),
                List.of(rejected), Split.PREFERENCE);
    }

    /** An SFT record (prompt and best source response) from a single-turn prompt. */
    public static PreferenceRecord sft(String prompt, String sourceChosen) {
        return new PreferenceRecord(List.of(ChatMessage.user(prompt)), List.of(sourceChosen), List.of(), Split.SFT);
    }

    /** y_ws, the best source response. */
    public String sourceChosen() {
        return chosen.get(0);
    }

    /** y_wt, the best of the target's own samples (y_ws when the record has one chosen response). */
    public String targetChosen() {
        return chosen.get(chosen.size() - 1);
    }

    /** y_l, the worst of the target's own samples. */
    public String rejectedResponse() {
        return rejected.get(0);
    }
}
