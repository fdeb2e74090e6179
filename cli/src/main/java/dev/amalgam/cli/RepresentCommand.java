package dev.amalgam.cli;

import dev.amalgam.fusionservice.RepresentationJobType;
import dev.amalgam.modelio.Json;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code amalgam represent}: the representation job of the fusion service, run locally on files: step 1 of
 * FuseChat for one model. With {@code --corpus} the engine runs the model over a chat corpus; with
 * {@code --import} log-probs computed elsewhere are converted. Either way OUT becomes a representation dataset
 * directory (meta.json, representations.jsonl, topk.bin) and the result summary is printed as JSON.
 */
@Command(name = "represent", mixinStandardHelpOptions = true,
        description = {"FuseChat step 1 for one model: per position the top-k logits and ids, per sample metric_ce,"
                + " written as a representation dataset (meta.json, representations.jsonl, topk.bin; see"
                + " fusion/README.md). --corpus runs the model on the engine; --import converts representations"
                + " computed elsewhere (a JSONL of token strings and prompt_logprobs, e.g. from a vLLM server).",
                "Example: amalgam represent --model ./source --corpus chats.jsonl --chat-template-from ./pivot --out repr",
                "         amalgam represent --model ./source --import source-logprobs.jsonl --out repr"})
class RepresentCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "the model directory (with --import: whose "
            + "tokenizer.json resolves the imported token strings)")
    Path model;

    @ArgGroup(multiplicity = "1")
    Input input;

    /** Exactly one of the two inputs. */
    static final class Input {
        @Option(names = "--corpus", required = true, description = "chat corpus JSONL: ShareGPT {\"id\", "
                + "\"conversations\": [{\"from\", \"value\"}]} or OpenAI {\"messages\": [{\"role\", \"content\"}]} lines")
        Path corpus;

        @Option(names = "--import", required = true, paramLabel = "FILE", description = "instead of --corpus: "
                + "representations computed elsewhere, JSONL {\"id\", \"tokens\" and/or \"input_ids\", \"labels\"?, "
                + "\"prompt_logprobs\": [null, [[token, logprob], ...], ...]}")
        Path imported;
    }

    @Option(names = "--chat-template-from", description = "with --corpus: the model directory whose chat template "
            + "renders the corpus (FuseChat's pivot; default: --model)")
    Path chatTemplateFrom;

    @Option(names = "--top-k", description = "logits kept per position (default 10)")
    Integer topK;

    @Option(names = "--max-length", description = "with --corpus: tokens kept per sample (default 2048)")
    Integer maxLength;

    @Option(names = "--batch-size", description = "with --corpus: samples per forward (default 4)")
    Integer batchSize;

    @Option(names = "--device", description = "with --corpus: auto (default), cpu, gpu or gpu:N, optionally /fp32 or /fp16")
    String device;

    @Option(names = "--out", required = true, description = "output directory for the dataset; must not exist or be empty")
    Path out;

    @Override
    public Integer call() throws Exception {
        LocalJobCommand.requireFreshOutput(out);
        ObjectNode json = Json.object();
        json.put("model", model.toString());
        if (input.corpus != null) {
            json.put("corpus", input.corpus.toString());
        } else {
            json.put("import", input.imported.toString());
        }
        if (chatTemplateFrom != null) {
            json.put("chatTemplateFrom", chatTemplateFrom.toString());
        }
        if (topK != null) {
            json.put("topK", topK);
        }
        if (maxLength != null) {
            json.put("maxLength", maxLength);
        }
        if (batchSize != null) {
            json.put("batchSize", batchSize);
        }
        if (device != null) {
            json.put("device", device);
        }
        json.put("name", "representations");
        // nothing to resume (a stopped run starts over): the work directory stays empty and goes at the end
        return LocalJobCommand.run("represent", new RepresentationJobType(), json, out, LocalJobCommand.workDirOf(out),
                LocalJobCommand.bar("representing"));
    }
}
