package dev.amalgam.merge;

import dev.amalgam.merge.config.ChatTemplates;
import dev.amalgam.merge.config.DtypeNames;
import dev.amalgam.merge.config.MergeConfig;
import dev.amalgam.merge.plan.MergePlan;
import dev.amalgam.modelio.HfModelDir;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** Writes everything beside the weights: config.json true to the output, tokenizer files, chat template, card. */
final class OutputFiles {

    private static final JsonMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    private OutputFiles() {
    }

    static void write(Path dir, MergeConfig cfg, MergePlan plan, Map<String, HfModelDir> models) throws IOException {
        ObjectNode config = (ObjectNode) models.get(plan.referenceModel()).config().deepCopy();
        String layersKey = plan.architecture().numLayersKey(config);
        if (layersKey != null) {
            setValue(config, layersKey, plan.numLayers());
        }
        setValue(config, plan.architecture().vocabSizeKey(), plan.vocabSize());
        // tie_word_embeddings stays the base model's, as mergekit leaves it (see MergePlan.tiedEmbeddings)
        String dtype = DtypeNames.torchName(plan.dtype());
        config.put("torch_dtype", dtype);
        if (config.has("dtype")) {
            config.put("dtype", dtype);
        }
        Files.writeString(dir.resolve("config.json"), JSON.writeValueAsString(config) + "\n");

        HfModelDir tok = models.get(plan.tokenizerModel());
        for (Path p : tok.auxiliaryFiles()) {
            String name = p.getFileName().toString();
            if (!name.equalsIgnoreCase("README.md")) {
                Files.copy(p, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        if (plan.unionTokenizer() != null) {
            plan.unionTokenizer().write(dir);
        }
        if (cfg.chatTemplate() != null) {
            String template = cfg.chatTemplate().equals("auto") ? mostCommonTemplate(models)
                    : ChatTemplates.resolve(cfg.chatTemplate());
            if (template != null) {
                setChatTemplate(dir, template);
            }
        }
        Files.writeString(dir.resolve("README.md"), modelCard(cfg, plan), StandardCharsets.UTF_8);
    }

    /** Sets a (dotted, nested) config key, creating the objects on its path. */
    private static void setValue(ObjectNode config, String key, long value) {
        String[] parts = key.split("\\.");
        ObjectNode n = config;
        for (int i = 0; i < parts.length - 1; i++) {
            JsonNode child = n.get(parts[i]);
            n = child instanceof ObjectNode o ? o : n.putObject(parts[i]);
        }
        n.put(parts[parts.length - 1], value);
    }

    /** mergekit's "auto": the template most of the input models use. */
    private static String mostCommonTemplate(Map<String, HfModelDir> models) throws IOException {
        Map<String, Integer> counts = new HashMap<>();
        for (HfModelDir m : models.values()) {
            Path tc = m.dir().resolve("tokenizer_config.json");
            if (Files.isRegularFile(tc)) {
                JsonNode t = JSON.readTree(tc.toFile()).get("chat_template");
                if (t != null && t.isString()) {
                    counts.merge(t.asString(), 1, Integer::sum);
                }
            }
        }
        return counts.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse(null);
    }

    private static void setChatTemplate(Path dir, String template) throws IOException {
        Path tc = dir.resolve("tokenizer_config.json");
        ObjectNode node = Files.isRegularFile(tc) ? (ObjectNode) JSON.readTree(tc.toFile()) : JSON.createObjectNode();
        node.put("chat_template", template);
        Files.writeString(tc, JSON.writeValueAsString(node) + "\n");
        // transformers prefers chat_template.jinja over the field; drop a copied one so ours is used
        Files.deleteIfExists(dir.resolve("chat_template.jinja"));
    }

    private static String modelCard(MergeConfig cfg, MergePlan plan) {
        List<String> inputs = cfg.referencedModels();
        StringBuilder sb = new StringBuilder("---\nbase_model:\n");
        inputs.forEach(m -> sb.append("- ").append(m).append('\n'));
        sb.append("library_name: transformers\ntags:\n- merge\n- amalgam\n---\n");
        sb.append("# Merged model\n\nThis model was made with Amalgam using the **").append(plan.method().name())
                .append("** merge method (").append(plan.method().reference()).append(").\n\n");
        if (cfg.baseModel() != null) {
            sb.append("Base model: `").append(cfg.baseModel()).append("`\n\n");
        }
        sb.append("Models merged:\n\n");
        inputs.forEach(m -> sb.append("- `").append(m).append("`\n"));
        sb.append("\nOutput: ").append(plan.numLayers()).append(" layers, vocabulary ").append(plan.vocabSize())
                .append(", ").append(DtypeNames.torchName(plan.dtype()))
                .append(plan.tiedEmbeddings() ? ", tied embeddings" : "").append(".\n\n");
        sb.append("## Configuration\n\nThe following configuration was used:\n\n```yaml\n")
                .append(cfg.sourceText() != null ? cfg.sourceText().strip() : "(built programmatically)")
                .append("\n```\n");
        return sb.toString();
    }
}
