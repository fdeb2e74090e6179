package dev.amalgam.modelengine.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Templates as published in the tokenizer_config.json of well-known chat models. */
class ChatTemplateTest {

    private static final String QWEN2 = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
            + "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
            + "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    private static final String MISTRAL = "{{ bos_token }}{% for message in messages %}"
            + "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
            + "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
            + "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
            + "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}"
            + "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}";

    private static final String LLAMA2 = "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
            + "{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}"
            + "{% set system_message = false %}{% endif %}{% for message in loop_messages %}"
            + "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
            + "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
            + "{% if loop.index0 == 0 and system_message != false %}"
            + "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
            + "{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}"
            + "{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}"
            + "{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";

    private static final Map<String, String> LLAMA_TOKENS = Map.of("bos_token", "<s>", "eos_token", "</s>");

    @Test
    void qwen2AddsTheDefaultSystemPrompt() {
        ChatTemplate t = new ChatTemplate(QWEN2, Map.of("eos_token", "<|im_end|>"));
        assertThat(t.render(List.of(ChatMessage.user("Hi")), true)).isEqualTo(
                "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                        + "<|im_start|>assistant\n");
    }

    @Test
    void mistralAlternatesRolesOrRaises() {
        ChatTemplate t = new ChatTemplate(MISTRAL, LLAMA_TOKENS);
        assertThat(t.render(List.of(ChatMessage.user("Hi"), ChatMessage.assistant("Hello"), ChatMessage.user("Bye")),
                true)).isEqualTo("<s>[INST] Hi [/INST]Hello</s>[INST] Bye [/INST]");
        assertThatThrownBy(() -> t.render(List.of(ChatMessage.user("a"), ChatMessage.user("b")), true))
                .hasMessageContaining("Conversation roles must alternate");
    }

    @Test
    void llama2FoldsTheSystemPromptAndStrips() {
        ChatTemplate t = new ChatTemplate(LLAMA2, LLAMA_TOKENS);
        assertThat(t.render(List.of(ChatMessage.system("Be nice."), ChatMessage.user(" Hi "),
                ChatMessage.assistant("Hello "), ChatMessage.user("Bye")), true)).isEqualTo(
                // strip() applies to the whole folded content, so the user's leading space survives (as in Python)
                "<s>[INST] <<SYS>>\nBe nice.\n<</SYS>>\n\n Hi [/INST] Hello </s><s>[INST] Bye [/INST]");
    }
}
