package dev.amalgam.fusion.data;

import static org.assertj.core.api.Assertions.assertThat;

import dev.amalgam.modelengine.Architecture;
import dev.amalgam.modelengine.text.ChatMessage;
import dev.amalgam.modelengine.text.TextTokenizer;
import dev.amalgam.modelengine.tiny.TinyModels;
import dev.amalgam.modelengine.tiny.TinySizes;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChatTokenizerTest {

    @TempDir
    Path dir;

    @Test
    void responseIsTheTemplateTextAfterTheGenerationPrompt() {
        TinyModels.write(Architecture.LLAMA, dir, TinySizes.defaults(), 1);
        try (TextTokenizer tok = TextTokenizer.load(dir)) {
            ChatTokenizer ct = new ChatTokenizer(tok, 512, 256);
            List<ChatMessage> prompt = List.of(ChatMessage.user("Hi"));
            assertThat(tok.decode(ct.promptIds(prompt), false)).isEqualTo("<s><|user|>\nHi</s>\n<|assistant|>\n");
            assertThat(tok.decode(ct.responseIds(prompt, "Yo"), false)).isEqualTo("Yo</s>\n");
            int[] conv = ct.conversationIds(prompt, "Yo");
            assertThat(tok.decode(conv, false)).isEqualTo(
                    tok.chatTemplate().orElseThrow().render(List.of(ChatMessage.user("Hi"), ChatMessage.assistant("Yo")),
                            false));
            TokenizedPreference t = ct.tokenize(PreferenceRecord.preference("Hi", "A", "BB", "CCC"));
            assertThat(tok.decode(t.targetChosen(), false)).isEqualTo("BB</s>\n");
            assertThat(t.responses()[2]).isEqualTo(t.rejected());
        }
    }

    @Test
    void truncationKeepsThePromptEndThenCutsResponses() {
        int[] prompt = {1, 2, 3, 4, 5, 6, 7, 8};
        int[][] responses = {{10, 11, 12}, {20, 21, 22, 23, 24, 25}};
        // Fits: untouched.
        int[][] same = ChatTokenizer.truncate(prompt, responses, 14, 4);
        assertThat(same[0]).isEqualTo(prompt);
        assertThat(same[2]).isEqualTo(responses[1]);
        // 8 + 6 > 12: prompt keeps its last 5; 5 + 6 <= 12, responses untouched.
        int[][] cutPrompt = ChatTokenizer.truncate(prompt, responses, 12, 5);
        assertThat(cutPrompt[0]).containsExactly(4, 5, 6, 7, 8);
        assertThat(cutPrompt[2]).isEqualTo(responses[1]);
        // 8 + 6 > 9: prompt -> last 5; 5 + 6 > 9: responses -> first 9 - 5 = 4 tokens.
        int[][] cutBoth = ChatTokenizer.truncate(prompt, responses, 9, 5);
        assertThat(cutBoth[0]).containsExactly(4, 5, 6, 7, 8);
        assertThat(cutBoth[1]).containsExactly(10, 11, 12);
        assertThat(cutBoth[2]).containsExactly(20, 21, 22, 23);
    }
}
