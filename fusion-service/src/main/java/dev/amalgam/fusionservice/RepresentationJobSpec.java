package dev.amalgam.fusionservice;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.swagger.v3.oas.annotations.media.Schema;

/**
 * The representation job spec (version 1): step 1 of FuseChat for one model, stored as a representation DATASET
 * (fusion/README.md, "Representation format"). Two variants, told apart by which input is given:
 * <ul>
 *   <li>{@code corpus}: the engine runs {@code model} over a chat corpus (ShareGPT or OpenAI messages JSONL),
 *       each sample rendered with the chat template of {@code chatTemplateFrom} (the pivot; default the model
 *       itself) and tokenised by the model's own tokenizer; it keeps the {@code topK} largest logits per
 *       position and each sample's metric_ce. {@code maxLength}, {@code batchSize} and {@code device} apply.</li>
 *   <li>{@code import}: the same representation computed elsewhere (a source the engine cannot run, e.g. a vLLM
 *       server's {@code prompt_logprobs}), a JSONL of token strings and top log-probs, converted; {@code model}
 *       then only lends its {@code tokenizer.json} to resolve the token strings. Only {@code topK} applies.</li>
 * </ul>
 *
 * @param model            MODEL: run (with corpus), or whose tokenizer resolves the imported tokens (with import)
 * @param corpus           DATASET, one JSONL chat corpus (give this or {@code importData})
 * @param importData       DATASET, one JSONL of precomputed log-probs ({@code "import"} in JSON)
 * @param chatTemplateFrom with corpus: the MODEL whose chat template renders the corpus; null for the model's own
 * @param topK             slots kept per position, 1..1024; default 10
 * @param maxLength        with corpus: tokens kept per sample (the start), 2..131072 and at most the model's
 *                         {@code max_position_embeddings}; default 2048
 * @param batchSize        with corpus: samples per forward, 1..64; default 4
 * @param device           with corpus: auto (a GPU when present), cpu, gpu or gpu:N, optionally /fp32 or /fp16
 * @param name             the DATASET artifact to publish
 */
@Schema(description = "FuseChat representations of one model on a chat corpus (top-k logits per position and "
        + "metric_ce per sample), computed by the engine (corpus) or imported (import), published as a DATASET",
        example = """
                {"model": "llama-a", "corpus": "chats", "chatTemplateFrom": "llama-base", "name": "llama-a-repr",
                 "topK": 10, "maxLength": 256, "batchSize": 4, "device": "cpu"}""")
public record RepresentationJobSpec(
        @Schema(description = "MODEL artifact: the model run over the corpus, or with import the model whose "
                + "tokenizer.json resolves the imported token strings", requiredMode = Schema.RequiredMode.REQUIRED)
        String model,
        @Schema(description = "DATASET (one JSONL file): a chat corpus, ShareGPT {\"id\", \"conversations\": "
                + "[{\"from\", \"value\"}]} or OpenAI {\"id\"?, \"messages\": [{\"role\", \"content\"}]} per line; "
                + "give this or import", nullable = true) String corpus,
        @JsonProperty("import")
        @Schema(name = "import", description = "DATASET (one JSONL file) of representations computed elsewhere: "
                + "{\"id\", \"tokens\" and/or \"input_ids\", \"labels\"?, \"prompt_logprobs\": [null, [[token, "
                + "logprob], ...], ...]} per line (vLLM's order); give this or corpus", nullable = true)
        String importData,
        @Schema(description = "with corpus: MODEL artifact whose chat template renders every sample (FuseChat's "
                + "pivot); default the model itself", nullable = true) String chatTemplateFrom,
        @Schema(description = "logits kept per position", minimum = "1", maximum = "1024", defaultValue = "10")
        Integer topK,
        @Schema(description = "with corpus: tokens kept per sample (the start is kept); at most the model's "
                + "max_position_embeddings", minimum = "2", maximum = "131072", defaultValue = "2048") Integer maxLength,
        @Schema(description = "with corpus: the most samples per forward (a batch also stays under 256 MiB of "
                + "FP32 logits)", minimum = "1", maximum = "64", defaultValue = "4") Integer batchSize,
        @Schema(description = "with corpus: auto (a GPU when present, FP16), cpu, gpu or gpu:N, optionally "
                + "followed by /fp32 or /fp16", defaultValue = "auto") String device,
        @Schema(description = "name of the DATASET artifact to publish", requiredMode = Schema.RequiredMode.REQUIRED)
        String name) {

    static final int MAX_MAX_LENGTH = 131_072;
}
