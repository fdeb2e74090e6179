package dev.amalgam.fusion.fusechat.repr;

import dev.amalgam.fusion.fusechat.FuseChatObjective;
import dev.amalgam.modelengine.text.ChatMessage;
import dev.amalgam.modelengine.text.ChatTemplate;
import dev.amalgam.modelengine.text.TextTokenizer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * FuseChat's view of a sample for one model: the conversation rendered with the PIVOT's chat template, tokenised by
 * the model's OWN tokenizer, learned only in assistant turns, cut to {@code maxLength} tokens (the start is kept).
 *
 * <p>The template is rendered with the model's own {@code bos_token} and {@code eos_token}: the authors render
 * every model's text with the pivot's conversation template and set its end-of-turn separator to each tokenizer's
 * own eos token. The rendered text is tokenised without the tokenizer's post-processor (the template supplies the
 * special tokens, as {@code apply_chat_template} does).
 *
 * <p>Labels: for each assistant turn i, the text between the conversation up to turn i rendered with the
 * generation prompt and the conversation through turn i (the reply plus what the template closes it with, e.g.
 * the eos) is learned; everything else is -100, and so is position 0 always. A boundary is the token count of the
 * text before it when that tokenisation is a prefix of the whole one; when the tokenizer merges across the
 * boundary, it is the length of the common prefix, so the merged token counts as learned at a turn's start.
 */
public final class ChatSampleTokenizer {

    private final TextTokenizer tokenizer;
    private final ChatTemplate template;
    private final int maxLength;

    /**
     * @param tokenizer the model's own tokenizer
     * @param pivotTemplate the pivot's chat template (its Jinja source is re-rendered with this model's bos/eos)
     * @param maxLength the most tokens kept per sample
     */
    public ChatSampleTokenizer(TextTokenizer tokenizer, ChatTemplate pivotTemplate, int maxLength) {
        if (maxLength < 2) {
            throw new IllegalArgumentException("maxLength must be at least 2, got " + maxLength);
        }
        this.tokenizer = tokenizer;
        Map<String, String> specials = new HashMap<>();
        specials.put("bos_token", tokenizer.bosTokenId().map(id -> tokenizer.decode(new int[] {id}, false)).orElse(""));
        specials.put("eos_token", tokenizer.eosTokenId().map(id -> tokenizer.decode(new int[] {id}, false)).orElse(""));
        this.template = new ChatTemplate(pivotTemplate.source(), specials);
        this.maxLength = maxLength;
    }

    /** The rendered text this model reads for {@code sample}. */
    public String render(ChatSample sample) {
        return render(sample, sample.messages(), false);
    }

    /** Tokenises {@code sample}, with its labels. */
    public TokenizedSample tokenize(ChatSample sample) {
        List<ChatMessage> messages = sample.messages();
        String full = render(sample, messages, false);
        int[] ids = tokenizer.encode(full, false);
        if (ids.length == 0) {
            throw new IllegalArgumentException("sample " + sample.id() + " renders to no tokens");
        }
        int[] labels = new int[ids.length];
        Arrays.fill(labels, FuseChatObjective.IGNORE_INDEX);
        for (int i = 0; i < messages.size(); i++) {
            if (!messages.get(i).role().equals("assistant")) {
                continue;
            }
            String before = render(sample, messages.subList(0, i), true);
            String through = render(sample, messages.subList(0, i + 1), false);
            if (!through.startsWith(before) || !full.startsWith(through)) {
                throw new IllegalArgumentException("sample " + sample.id() + ": the chat template does not render "
                        + "assistant turn " + i + " as a continuation of the turns before it, so its tokens cannot "
                        + "be told apart");
            }
            int from = boundary(before, ids);
            int to = boundary(through, ids);
            for (int t = from; t < to; t++) {
                labels[t] = ids[t];
            }
        }
        labels[0] = FuseChatObjective.IGNORE_INDEX;
        int n = Math.min(ids.length, maxLength);
        return new TokenizedSample(sample.id(), Arrays.copyOf(ids, n), Arrays.copyOf(labels, n));
    }

    private String render(ChatSample sample, List<ChatMessage> messages, boolean generationPrompt) {
        try {
            return template.render(messages, generationPrompt);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("sample " + sample.id() + ": the chat template fails: " + e.getMessage(), e);
        }
    }

    /** Where the text {@code prefix} ends in the token sequence {@code ids} of a text that starts with it. */
    private int boundary(String prefix, int[] ids) {
        if (prefix.isEmpty()) {
            return 0;
        }
        int[] p = tokenizer.encode(prefix, false);
        int n = 0;
        while (n < p.length && n < ids.length && p[n] == ids[n]) {
            n++;
        }
        return n;
    }
}
