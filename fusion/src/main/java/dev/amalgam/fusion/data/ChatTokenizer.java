package dev.amalgam.fusion.data;

import dev.amalgam.modelengine.text.ChatMessage;
import dev.amalgam.modelengine.text.ChatTemplate;
import dev.amalgam.modelengine.text.TextTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Prompt/response tokenisation with the target's chat template, in one of two modes ({@link Tokenization}).
 *
 * <p><b>reference</b> (the WRPO authors' code: alignment-handbook's {@code apply_chat_template}, then TRL's
 * {@code tokenize_row}): an empty system turn is put before the prompt when its first message is not a system
 * message and the template text contains {@code system} or {@code <|im_start|>}; the prompt text is the template's
 * rendering WITHOUT the generation prompt; a response text is the template's rendering of the assistant message
 * alone, with a leading BOS text removed (so it carries the assistant header and the end-of-turn, and for templates
 * that add a default system block when the first message is not a system one, that block too). Tokens: the prompt
 * text alone, and {@code prompt + response} as one text, whose tokens after the prompt's are the response's; then the
 * tokenizer's EOS id is appended to every response. When the two tokenisations disagree on the last prompt token (a
 * merge across the boundary), that token moves to the response, as TRL does.
 *
 * <p><b>amalgam</b>: the prompt is the conversation rendered with the generation prompt; a response is the rest of
 * the conversation rendered with the answer as an assistant turn; prompt and response are tokenised separately and
 * nothing is appended.
 *
 * <p>Truncation (both modes, TRL, {@code truncation_mode="keep_end"}): if prompt plus the longest response exceed
 * {@code maxLength}, the prompt keeps its last {@code maxPromptLength} tokens; if still too long, every response is
 * cut to {@code maxLength - maxPromptLength} tokens.
 *
 * <pre>{@code
 * ChatTokenizer ct = new ChatTokenizer(tokenizer, 2048, 1800, Tokenization.REFERENCE);
 * TokenizedPreference t = ct.tokenize(record);
 * }</pre>
 */
public final class ChatTokenizer {

    private final TextTokenizer tokenizer;
    private final ChatTemplate template;
    private final Tokenization mode;
    private final String bosText;
    private final String eosText;
    private final Integer eosId;
    private final int maxLength;
    private final int maxPromptLength;

    /** The amalgam mode (kept for callers that predate the modes). */
    public ChatTokenizer(TextTokenizer tokenizer, int maxLength, int maxPromptLength) {
        this(tokenizer, maxLength, maxPromptLength, Tokenization.AMALGAM);
    }

    /**
     * @param mode {@code auto} is resolved here with {@link #resolve}
     */
    public ChatTokenizer(TextTokenizer tokenizer, int maxLength, int maxPromptLength, Tokenization mode) {
        if (maxPromptLength <= 0 || maxPromptLength >= maxLength) {
            throw new IllegalArgumentException("need 0 < maxPromptLength < maxLength, got " + maxPromptLength + " and "
                    + maxLength);
        }
        this.tokenizer = tokenizer;
        this.template = tokenizer.chatTemplate().orElseThrow(
                () -> new IllegalArgumentException("the target's tokenizer has no chat_template"));
        this.bosText = tokenizer.bosTokenId().map(id -> tokenizer.decode(new int[] {id}, false)).orElse(null);
        this.eosId = tokenizer.eosTokenId().orElse(null);
        this.eosText = eosId == null ? "" : tokenizer.decode(new int[] {eosId}, false);
        this.maxLength = maxLength;
        this.maxPromptLength = maxPromptLength;
        this.mode = mode == Tokenization.AUTO ? resolve(tokenizer) : mode;
        if (this.mode == Tokenization.REFERENCE && eosId == null) {
            throw new IllegalArgumentException("tokenization reference appends the EOS token, but the target's "
                    + "tokenizer has none (eos_token in tokenizer_config.json); use tokenization amalgam");
        }
    }

    /**
     * What {@code auto} means for this tokenizer: {@code reference} when it has a chat template and an EOS token and
     * the template renders a lone assistant message and a user prompt with the reference's system turn; else
     * {@code amalgam} (e.g. templates that insist on user/assistant alternation from the first message).
     */
    public static Tokenization resolve(TextTokenizer tokenizer) {
        if (tokenizer.chatTemplate().isEmpty() || tokenizer.eosTokenId().isEmpty()) {
            return Tokenization.AMALGAM;
        }
        ChatTemplate t = tokenizer.chatTemplate().get();
        try {
            t.render(withSystemTurn(t, List.of(ChatMessage.user("x"))), false);
            t.render(List.of(ChatMessage.assistant("x")), false);
            return Tokenization.REFERENCE;
        } catch (IllegalArgumentException e) {
            return Tokenization.AMALGAM;
        }
    }

    /** The mode in use ({@code auto} resolved). */
    public Tokenization mode() {
        return mode;
    }

    /**
     * alignment-handbook's {@code maybe_insert_system_message}: an empty system turn first, unless the conversation
     * starts with one or the template text mentions neither {@code system} nor {@code <|im_start|>}.
     */
    static List<ChatMessage> withSystemTurn(ChatTemplate template, List<ChatMessage> messages) {
        if (messages.get(0).role().equals("system")
                || !(template.source().contains("system") || template.source().contains("<|im_start|>"))) {
            return messages;
        }
        List<ChatMessage> out = new ArrayList<>();
        out.add(new ChatMessage("system", ""));
        out.addAll(messages);
        return out;
    }

    /** The prompt's text: with the generation prompt (amalgam), or without it and with the system turn (reference). */
    public String promptText(List<ChatMessage> prompt) {
        return mode == Tokenization.REFERENCE ? template.render(withSystemTurn(template, prompt), false)
                : template.render(prompt, true);
    }

    /** The prompt's tokens, untruncated. */
    public int[] promptIds(List<ChatMessage> prompt) {
        return tokenizer.encode(promptText(prompt), false);
    }

    /** Tokens of {@code response} as the assistant's answer to {@code prompt}, untruncated. */
    public int[] responseIds(List<ChatMessage> prompt, String response) {
        if (mode == Tokenization.REFERENCE) {
            return referenceSplit(promptText(prompt), response)[1];
        }
        return tokenizer.encode(responseText(prompt, response), false);
    }

    /** The text of a response: what follows the prompt text in the rendering of this mode. */
    String responseText(List<ChatMessage> prompt, String response) {
        if (mode == Tokenization.REFERENCE) {
            String alone = template.render(List.of(ChatMessage.assistant(response)), false);
            return bosText != null && !bosText.isEmpty() && alone.startsWith(bosText)
                    ? alone.substring(bosText.length()) : alone;
        }
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

    /**
     * TRL's {@code build_tokenized_answer} plus the appended EOS: {prompt tokens, response tokens} of one response,
     * from {@code tokenise(prompt + response)} split at the prompt's own token count (one less when the last prompt
     * token merged with the response).
     */
    private int[][] referenceSplit(String promptText, String response) {
        int[] promptAlone = tokenizer.encode(promptText, false);
        int[] full = tokenizer.encode(promptText + responseText(null, response), false);
        int start = promptAlone.length;
        if (full.length < start || !Arrays.equals(promptAlone, Arrays.copyOf(full, start))) {
            start--;
        }
        int[] answer = Arrays.copyOf(Arrays.copyOfRange(full, start, full.length), full.length - start + 1);
        answer[answer.length - 1] = eosId;
        return new int[][] {Arrays.copyOf(full, start), answer};
    }

    /** Tokenises and truncates a preference record. */
    public TokenizedPreference tokenize(PreferenceRecord r) {
        int[] prompt;
        int[][] responses;
        String[] texts = {r.sourceChosen(), r.targetChosen(), r.rejectedResponse()};
        if (mode == Tokenization.REFERENCE) {
            String promptText = promptText(r.prompt());
            responses = new int[3][];
            prompt = null;
            for (int k = 0; k < 3; k++) {
                int[][] split = referenceSplit(promptText, texts[k]);
                if (prompt != null && !Arrays.equals(prompt, split[0])) {
                    // TRL tolerates a one-token difference per response; one shared prompt cannot hold that
                    throw new IllegalArgumentException("the prompt's last token merges differently with the "
                            + "responses; use tokenization amalgam for this data");
                }
                prompt = split[0];
                responses[k] = split[1];
            }
        } else {
            prompt = promptIds(r.prompt());
            responses = new int[][] {responseIds(r.prompt(), texts[0]), responseIds(r.prompt(), texts[1]),
                responseIds(r.prompt(), texts[2])};
        }
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

    /**
     * Prompt plus answer as one sequence, for the SFT stage. Reference (alignment-handbook's {@code sft} task, then
     * TRL's packing): the whole conversation, with the system turn, rendered without the generation prompt,
     * tokenised WITH the tokenizer's special tokens (its post-processor, e.g. a BOS; a template that writes the BOS
     * itself then yields two, as TRL does) and followed by the EOS id (TRL's separator between packed documents).
     * Amalgam: prompt tokens then response tokens as for preference records.
     */
    public int[] conversationIds(List<ChatMessage> prompt, String response) {
        if (mode == Tokenization.REFERENCE) {
            List<ChatMessage> all = new ArrayList<>(withSystemTurn(template, prompt));
            all.add(ChatMessage.assistant(response));
            int[] ids = tokenizer.encode(template.render(all, false), true);
            int[] out = Arrays.copyOf(ids, ids.length + 1);
            out[ids.length] = eosId;
            return out;
        }
        int[] p = promptIds(prompt);
        int[] r = responseIds(prompt, response);
        int[] all = Arrays.copyOf(p, p.length + r.length);
        System.arraycopy(r, 0, all, p.length, r.length);
        return all;
    }
}
