package dev.amalgam.modelengine.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.amalgam.modelengine.Architecture;
import dev.amalgam.modelengine.tiny.TinyModels;
import dev.amalgam.modelengine.tiny.TinySizes;
import dev.amalgam.modelengine.tiny.TinyVocabulary;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TextTokenizerTest {

    @TempDir
    Path dir;

    @Test
    void tinyByteLevelTokenizerRoundTripsAndKnowsItsSpecialTokens() {
        TinyModels.write(Architecture.LLAMA, dir, TinySizes.defaults(), 1);
        try (TextTokenizer tok = TextTokenizer.load(dir)) {
            String text = "Hé, world!\nÜ";
            int[] ids = tok.encode(text, false);
            // byte-level with no merges: one id per UTF-8 byte, id = byte value
            byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
            assertThat(ids).hasSize(utf8.length);
            for (int i = 0; i < ids.length; i++) {
                assertThat(ids[i]).isEqualTo(utf8[i] & 0xFF);
            }
            assertThat(tok.decode(ids, true)).isEqualTo(text);
            assertThat(tok.bosTokenId()).contains(256);
            assertThat(tok.eosTokenId()).contains(257);
            assertThat(tok.padTokenId()).contains(258);
            int[] withBos = tok.encode("ab", true);
            assertThat(withBos).containsExactly(256, 'a', 'b');
            assertThat(tok.decode(withBos, true)).isEqualTo("ab");
            assertThat(tok.decode(withBos, false)).isEqualTo("<s>ab");
        }
    }

    @Test
    void tinyBpeTokenizerMergesEnglishPairsIntoTheFreeByteIdsAndStillRoundTripsAnyText() {
        TinyModels.write(Architecture.LLAMA, dir.resolve("bpe"), TinySizes.defaults(), 1, TinyVocabulary.BPE);
        try (TextTokenizer tok = TextTokenizer.load(dir.resolve("bpe"))) {
            // " the" is one token: the third merge ("Ġt" + "he"), in the slot of byte 0xF5; "in", "er" the fourth, fifth
            assertThat(tok.encode(" the", false)).containsExactly(0xF5);
            assertThat(tok.encode("winter", false)).containsExactly('w', 0xF6, 't', 0xF7);
            // bytes that merge with nothing keep their byte ids; text with any UTF-8 still round-trips
            String text = "Hé, the winter is over!\nÜ €";
            int[] ids = tok.encode(text, false);
            assertThat(ids.length).isLessThan(text.getBytes(StandardCharsets.UTF_8).length);
            assertThat(tok.decode(ids, true)).isEqualTo(text);
            assertThat(tok.bosTokenId()).contains(256);
            assertThat(tok.eosTokenId()).contains(257);
        }
    }

    @Test
    void chatTemplateRendersConversationAndRejectsUnknownRoles() {
        TinyModels.write(Architecture.QWEN2, dir, TinySizes.defaults(), 1);
        try (TextTokenizer tok = TextTokenizer.load(dir)) {
            ChatTemplate t = tok.chatTemplate().orElseThrow();
            String rendered = t.render(List.of(ChatMessage.system("Be brief."), ChatMessage.user("Hi")), true);
            assertThat(rendered).isEqualTo("<s><|system|>\nBe brief.</s>\n<|user|>\nHi</s>\n<|assistant|>\n");
            assertThat(t.render(List.of(ChatMessage.user("Hi")), false)).isEqualTo("<s><|user|>\nHi</s>\n");
            int[] ids = tok.encodeChat(List.of(ChatMessage.user("Hi")), true);
            // <s> <|user|> \n H i </s> \n <|assistant|> \n
            assertThat(ids).containsExactly(256, 260, 10, 'H', 'i', 257, 10, 261, 10);
            assertThatThrownBy(() -> t.render(List.of(new ChatMessage("tool", "x")), true))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Unknown role: tool");
        }
    }

    @Test
    void rendersALlama3StyleTemplateWithTrimAndLoopVariables() {
        String llama3 = "{% set loop_messages = messages %}{% for message in loop_messages %}"
                + "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'"
                + " + message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
                + "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
                + "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";
        ChatTemplate t = new ChatTemplate(llama3, java.util.Map.of("bos_token", "<|begin_of_text|>",
                "eos_token", "<|eot_id|>"));
        assertThat(t.render(List.of(ChatMessage.user("  Hello  ")), true)).isEqualTo(
                "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\n");
    }
}
