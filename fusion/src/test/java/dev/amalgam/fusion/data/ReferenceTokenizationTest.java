package dev.amalgam.fusion.data;

import static org.assertj.core.api.Assertions.assertThat;

import dev.amalgam.modelengine.Architecture;
import dev.amalgam.modelengine.text.ChatMessage;
import dev.amalgam.modelengine.text.TextTokenizer;
import dev.amalgam.modelengine.tiny.TinyModels;
import dev.amalgam.modelengine.tiny.TinySizes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The reference tokenisation against token ids written out by hand. The tiny tokenizer is byte-level (a byte's id is
 * its value: 'H' = 72, '\n' = 10) with six special tokens at 256..261, renamed here to the Llama-3 or Qwen2 ones, and
 * the real Llama-3-Instruct / Qwen2-Instruct chat templates.
 */
class ReferenceTokenizationTest {

    static final String LLAMA3_TEMPLATE = "{% set loop_messages = messages %}{% for message in loop_messages %}"
            + "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'"
            + "+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
            + "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";

    static final String QWEN2_TEMPLATE = "{% for message in messages %}{% if loop.first and messages[0]['role'] != "
            + "'system' %}{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
            + "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    @TempDir
    Path dir;

    /** 256 <|begin_of_text|>, 257 <|eot_id|> (the EOS, as in Llama-3-Instruct), 259 <|start_header_id|>,
     * 260 <|end_header_id|>. */
    private Path llama3() throws Exception {
        Path d = TinyModels.write(Architecture.LLAMA, dir.resolve("llama3"), TinySizes.defaults(), 1);
        rename(d, List.of("</s>", "<|eot_id|>", "<s>", "<|begin_of_text|>", "<|system|>", "<|start_header_id|>",
                "<|user|>", "<|end_header_id|>", "<|assistant|>", "<|end_of_text|>"), true);
        config(d, "<|begin_of_text|>", "<|eot_id|>", LLAMA3_TEMPLATE);
        return d;
    }

    /** 256 <|endoftext|>, 257 <|im_start|>, 259 <|im_end|> (the EOS); no BOS, no post-processor (as Qwen2). */
    private Path qwen2() throws Exception {
        Path d = TinyModels.write(Architecture.QWEN2, dir.resolve("qwen2"), TinySizes.defaults(), 1);
        rename(d, List.of("</s>", "<|im_start|>", "<s>", "<|endoftext|>", "<|system|>", "<|im_end|>"), false);
        config(d, null, "<|im_end|>", QWEN2_TEMPLATE);
        return d;
    }

    private static void rename(Path d, List<String> pairs, boolean keepPostProcessor) throws Exception {
        String json = Files.readString(d.resolve("tokenizer.json"));
        for (int i = 0; i < pairs.size(); i += 2) {
            json = json.replace("\"" + pairs.get(i) + "\"", "\"" + pairs.get(i + 1) + "\"");
        }
        ObjectNode root = (ObjectNode) JsonMapper.builder().build().readTree(json);
        if (!keepPostProcessor) {
            root.putNull("post_processor");
        }
        Files.writeString(d.resolve("tokenizer.json"), root.toString());
    }

    private static void config(Path d, String bos, String eos, String template) throws Exception {
        ObjectNode c = (ObjectNode) JsonMapper.builder().build().readTree(Files.readString(
                d.resolve("tokenizer_config.json")));
        if (bos == null) {
            c.putNull("bos_token");
        } else {
            c.put("bos_token", bos);
        }
        c.put("eos_token", eos);
        c.put("pad_token", "<pad>");
        c.put("chat_template", template);
        Files.writeString(d.resolve("tokenizer_config.json"), c.toString());
    }

    @Test
    void llama3PromptHasNoGenerationPromptAndEachResponseRepeatsTheHeaderAndGetsAnExtraEos() throws Exception {
        try (TextTokenizer tok = TextTokenizer.load(llama3())) {
            ChatTokenizer ct = new ChatTokenizer(tok, 512, 256, Tokenization.AUTO);
            assertThat(ct.mode()).isEqualTo(Tokenization.REFERENCE);
            // The Llama-3 template does not mention a system turn: none is inserted.
            TokenizedPreference t = ct.tokenize(new PreferenceRecord(List.of(ChatMessage.user("Hi")),
                    List.of("Yo", " Ok\n"), List.of("No"), Split.PREFERENCE));
            // <|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>
            assertThat(t.prompt()).containsExactly(256, 259, 117, 115, 101, 114, 260, 10, 10, 72, 105, 257);
            // <|start_header_id|>assistant<|end_header_id|>\n\nYo<|eot_id|> + EOS (<|eot_id|> again)
            assertThat(t.sourceChosen()).containsExactly(259, 97, 115, 115, 105, 115, 116, 97, 110, 116, 260, 10, 10,
                    89, 111, 257, 257);
            // the template trims the content: " Ok\n" -> "Ok"
            assertThat(t.targetChosen()).containsExactly(259, 97, 115, 115, 105, 115, 116, 97, 110, 116, 260, 10, 10,
                    79, 107, 257, 257);
            assertThat(t.rejected()).containsExactly(259, 97, 115, 115, 105, 115, 116, 97, 110, 116, 260, 10, 10,
                    78, 111, 257, 257);
            // SFT (TRL packing): special tokens added (a second BOS) and the EOS as the document separator.
            assertThat(ct.conversationIds(List.of(ChatMessage.user("Hi")), "Yo")).containsExactly(256, 256, 259, 117,
                    115, 101, 114, 260, 10, 10, 72, 105, 257, 259, 97, 115, 115, 105, 115, 116, 97, 110, 116, 260, 10,
                    10, 89, 111, 257, 257);
        }
    }

    @Test
    void qwen2PromptGetsAnEmptySystemTurnAndTheLoneResponseCarriesTheDefaultSystemBlock() throws Exception {
        try (TextTokenizer tok = TextTokenizer.load(qwen2())) {
            ChatTokenizer ct = new ChatTokenizer(tok, 512, 256, Tokenization.REFERENCE);
            TokenizedPreference t = ct.tokenize(new PreferenceRecord(List.of(ChatMessage.user("Hi")),
                    List.of("Yo", "Ok"), List.of("No"), Split.PREFERENCE));
            // <|im_start|>system\n<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n
            assertThat(t.prompt()).containsExactly(257, 115, 121, 115, 116, 101, 109, 10, 259, 10,
                    257, 117, 115, 101, 114, 10, 72, 105, 259, 10);
            // <|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>assistant\nYo<|im_end|>\n + EOS
            assertThat(t.sourceChosen()).containsExactly(257, 115, 121, 115, 116, 101, 109, 10,
                    89, 111, 117, 32, 97, 114, 101, 32, 97, 32, 104, 101, 108, 112, 102, 117, 108, 32,
                    97, 115, 115, 105, 115, 116, 97, 110, 116, 46, 259, 10,
                    257, 97, 115, 115, 105, 115, 116, 97, 110, 116, 10, 89, 111, 259, 10, 259);
            int[] rejected = t.rejected();
            assertThat(rejected).endsWith(257, 97, 115, 115, 105, 115, 116, 97, 110, 116, 10, 78, 111, 259, 10, 259);
        }
    }

    @Test
    void amalgamModeKeepsTheGenerationPromptAndAddsNothing() throws Exception {
        try (TextTokenizer tok = TextTokenizer.load(llama3())) {
            ChatTokenizer ct = new ChatTokenizer(tok, 512, 256, Tokenization.AMALGAM);
            TokenizedPreference t = ct.tokenize(PreferenceRecord.preference("Hi", "Yo", "Ok", "No"));
            // ...Hi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n
            assertThat(t.prompt()).containsExactly(256, 259, 117, 115, 101, 114, 260, 10, 10, 72, 105, 257,
                    259, 97, 115, 115, 105, 115, 116, 97, 110, 116, 260, 10, 10);
            assertThat(t.sourceChosen()).containsExactly(89, 111, 257); // Yo<|eot_id|>
        }
    }

    @Test
    void autoFallsBackToAmalgamWhenTheTemplateCannotRenderALoneAssistantMessage() throws Exception {
        Path d = llama3();
        config(d, "<|begin_of_text|>", "<|eot_id|>", "{% for m in messages %}{% if (m['role'] == 'user') != "
                + "(loop.index0 % 2 == 0) %}{{ raise_exception('roles must alternate user/assistant') }}{% endif %}"
                + "{{ m['role'] + ': ' + m['content'] + '\\n' }}{% endfor %}");
        try (TextTokenizer tok = TextTokenizer.load(d)) {
            assertThat(ChatTokenizer.resolve(tok)).isEqualTo(Tokenization.AMALGAM);
            assertThat(new ChatTokenizer(tok, 64, 32, Tokenization.AUTO).mode()).isEqualTo(Tokenization.AMALGAM);
        }
    }
}
