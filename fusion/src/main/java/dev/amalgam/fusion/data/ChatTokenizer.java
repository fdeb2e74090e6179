package dev.amalgam.fusion.data;

import dev.amalgam.modelengine.text.ChatMessage;
import dev.amalgam.modelengine.text.ChatTemplate;
import dev.amalgam.modelengine.text.TextTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Prompt/response tokenisation with the target's chat template, as TRL's DPO data path does it: the prompt is the
 * conversation rendered with the generation prompt; a response is the rest of the conversation rendered with the
 * answer as an assistant turn (so the template's end-of-turn tokens are part of what is learned). Prompt and response
 * are tokenised separately.
 *
 * <p>Truncation (TRL, {@code truncation_mode="keep_end"}): if prompt plus the longest response exceed
 * {@code maxLength}, the prompt keeps its last {@code maxPromptLength} tokens; if still too long, every response is
 * cut to {@code maxLength - maxPromptLength} tokens.
 *
 * <pre>{@code
 * ChatTokenizer ct = new ChatTokenizer(tokenizer, 2048, 1800);
 * TokenizedPreference t = ct.tokenize(record);
 * }</pre>
 */
public final class ChatTokenizer {

    private final TextTokenizer tokenizer;
    private final ChatTemplate template;
    private final String eosText;
    private final int maxLength;
    private final int maxPromptLength;

    public ChatTokenizer(TextTokenizer tokenizer, int maxLength, int maxPromptLength) {
        if (maxPromptLength <= 0 || maxPromptLength >= maxLength) {
            throw new IllegalArgumentException("need 0 < maxPromptLength < maxLength, got " + maxPromptLength + " and "
                    + maxLength);
        }
        this.tokenizer = tokenizer;
        this.template = tokenizer.chatTemplate().orElseThrow(
                () -> new IllegalArgumentException("the target's tokenizer has no chat_template"));
        this.eosText = tokenizer.eosTokenId().map(id -> tokenizer.decode(new int[] {id}, false)).orElse("");
        this.maxLength = maxLength;
        this.maxPromptLength = maxPromptLength;
    }

    /** The prompt's tokens, with the generation prompt, untruncated. */
    public int[] promptIds(List<ChatMessage> prompt) {
        return tokenizer.encode(template.render(prompt, true), false);
    }

    /** Tokens of {@code response} as the assistant's answer to {@code prompt}, untruncated. */
    public int[] responseIds(List<ChatMessage> prompt, String response) {
        return tokenizer.encode(responseText(prompt, response), false);
    }

    /** The text the template puts after the generation prompt for this answer. */
    String responseText(List<ChatMessage> prompt, String response) {
        String head = template.render(prompt, true);
        List<ChatMessage> full = new ArrayList<>(prompt);
        full.add(ChatMessage.assistant(response));
        String all = template.render(full, false);
        if (all.startsWith(head)) {
            return all.substring(head.length());
        }
        // Templates that re-render earlier turns differently: the answer plus EOS, as TRL does for plain text.
        return response + eosText;
    }

    /** Tokenises and truncates a preference record. */
    public TokenizedPreference tokenize(PreferenceRecord r) {
        int[] prompt = promptIds(r.prompt());
        int[][] responses = {responseIds(r.prompt(), r.sourceChosen()), responseIds(r.prompt(), r.targetChosen()),
            responseIds(r.prompt(), r.rejectedResponse())};
        int[][] cut = truncate(prompt, responses, maxLength, maxPromptLength);
        return new TokenizedPreference(cut[0], cut[1], cut[2], cut[3]);
    }

    /**
     * TRL's keep-end truncation of one prompt and its responses; returns {prompt, responses...}.
     */
    public static int[][] truncate(int[] prompt, int[][] responses, int maxLength, int maxPromptLength) {
        int longest = Arrays.stream(responses).mapToInt(a -> a.length).max().orElse(0);
        int[] p = prompt;
        if (p.length + longest > maxLength && p.length > maxPromptLength) {
            p = Arrays.copyOfRange(p, p.length - maxPromptLength, p.length); // keep the end of the prompt
        }
        int[][] out = new int[responses.length + 1][];
        out[0] = p;
        for (int i = 0; i < responses.length; i++) {
            int[] r = responses[i];
            if (p.length + longest > maxLength && r.length > maxLength - maxPromptLength) {
                r = Arrays.copyOf(r, maxLength - maxPromptLength);
            }
            out[i + 1] = r;
        }
        return out;
    }

    /** Prompt plus answer as one sequence, for the SFT stage (whole conversation, template tokens included). */
    public int[] conversationIds(List<ChatMessage> prompt, String response) {
        int[] p = promptIds(prompt);
        int[] r = responseIds(prompt, response);
        int[] all = Arrays.copyOf(p, p.length + r.length);
        System.arraycopy(r, 0, all, p.length, r.length);
        return all;
    }
}
