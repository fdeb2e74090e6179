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
        config.put(plan.architecture().numLayersKey(), plan.numLayers());
        config.put(plan.architecture().vocabSizeKey(), plan.vocabSize());
        config.put(plan.architecture().tieKey(), plan.tiedEmbeddings());
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
            String template = cfg.chatTemplate().equals("auto") ? mostCommonTemplate(cfg, models)
                    : ChatTemplates.resolve(cfg.chatTemplate());
            if (template != null) {
                setChatTemplate(dir, template);
            }
        }
        Files.writeString(dir.resolve("README.md"), modelCard(cfg, plan), StandardCharsets.UTF_8);
    }

    /**
     * mergekit's "auto": the template most of the referenced models use (base, models, slice sources: not a
     * tokenizer donor), read as transformers loads it (chat_template.jinja beside tokenizer_config.json wins over
     * its chat_template field; of a list of named templates, "default"), stripped of surrounding whitespace.
     * Ties go to the model named first (mergekit counts over a set, whose order is arbitrary).
     */
    private static String mostCommonTemplate(MergeConfig cfg, Map<String, HfModelDir> models) throws IOException {
        java.util.LinkedHashSet<String> referenced = new java.util.LinkedHashSet<>();
        if (cfg.baseModel() != null) {
            referenced.add(cfg.baseModel());
        }
        cfg.models().forEach(m -> referenced.add(m.model()));
        cfg.slices().forEach(sl -> sl.sources().forEach(src -> referenced.add(src.model())));
        Map<String, Integer> counts = new java.util.LinkedHashMap<>();
        for (String ref : referenced) {
            String t = chatTemplateOf(models.get(ref).dir());
            if (t != null && !t.strip().isEmpty()) {
                counts.merge(t.strip(), 1, Integer::sum);
            }
        }
        String best = null;
        for (Map.Entry<String, Integer> e : counts.entrySet()) {
            if (best == null || e.getValue() > counts.get(best)) {
                best = e.getKey();
            }
        }
        return best;
    }

    /** A model directory's chat template as transformers loads it, or null. */
    static String chatTemplateOf(Path modelDir) throws IOException {
        Path jinja = modelDir.resolve("chat_template.jinja");
        if (Files.isRegularFile(jinja)) {
            return Files.readString(jinja);
        }
        Path tc = modelDir.resolve("tokenizer_config.json");
        if (!Files.isRegularFile(tc)) {
            return null;
        }
        JsonNode t = JSON.readTree(tc.toFile()).get("chat_template");
        if (t != null && t.isString()) {
            return t.asString();
        }
        if (t != null && t.isArray()) { // [{"name": "default", "template": ...}, ...]
            for (JsonNode named : t) {
                if (named.path("name").asString("").equals("default")) {
                    return named.path("template").asString(null);
                }
            }
        }
        return null;
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
