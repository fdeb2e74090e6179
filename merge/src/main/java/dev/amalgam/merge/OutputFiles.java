package dev.amalgam.merge;

import dev.amalgam.merge.config.ChatTemplates;
import dev.amalgam.merge.config.DtypeNames;
import dev.amalgam.merge.config.MergeConfig;
import dev.amalgam.merge.config.ModelReference;
import dev.amalgam.merge.plan.MergePlan;
import dev.amalgam.modelio.HfModelDir;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** Writes everything beside the weights: config.json true to the output, tokenizer files, chat template, card. */
final class OutputFiles {

    /** The config as given, as mergekit names it. */
    static final String MERGEKIT_CONFIG = "mergekit_config.yml";

    private static final JsonMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    private OutputFiles() {
    }

    /** Every file beside the weights; {@code name} is the output directory's name (the card's title). */
    static void write(Path dir, String modelName, MergeConfig cfg, MergePlan plan, Map<String, HfModelDir> models)
            throws IOException {
        ObjectNode config = (ObjectNode) models.get(plan.referenceModel()).config().deepCopy();
        for (dev.amalgam.merge.arch.Architecture.Module m : plan.architecture().modules()) {
            // each planned module's layer count under its own key (text_config / vision_config for Llava)
            String layersKey = m.layout().numLayersKey(config);
            Integer layers = plan.moduleLayers().get(m.name());
            if (layersKey != null && layers != null) {
                setValue(config, layersKey, layers);
            }
        }
        // -1: no embedding written (an inferred layout found none, or a modules: config left their module out);
        // the config's value stays
        if (plan.vocabSize() >= 0) {
            setValue(config, plan.architecture().vocabSizeKey(), plan.vocabSize());
        }
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
            if (!name.equalsIgnoreCase("README.md") && !name.equals(MERGEKIT_CONFIG)) {
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
        // mergekit's tagalong_files (a vision model's processor files): from the base (else first) model, last, so
        // they replace what the tokenizer source brought
        Path refDir = models.get(plan.referenceModel()).dir();
        for (String name : plan.architecture().tagalongFiles()) {
            Path p = refDir.resolve(name);
            if (Files.isRegularFile(p)) {
                Files.copy(p, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        Files.writeString(dir.resolve("README.md"), modelCard(modelName, cfg, plan), StandardCharsets.UTF_8);
        // mergekit writes the config as given beside the model
        if (cfg.sourceText() != null) {
            Files.writeString(dir.resolve(MERGEKIT_CONFIG), cfg.sourceText(), StandardCharsets.UTF_8);
        }
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

    /**
     * mergekit's "auto": the template most of the referenced models use (base, models, slice sources: not a
     * tokenizer donor), read as transformers loads it (chat_template.jinja beside tokenizer_config.json wins over
     * its chat_template field; of a list of named templates, "default"), stripped of surrounding whitespace.
     * Ties go to the model named first (mergekit counts over a set, whose order is arbitrary).
     */
    private static String mostCommonTemplate(MergeConfig cfg, Map<String, HfModelDir> models) throws IOException {
        List<String> referenced = cfg.mergekitReferencedModels();
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

    /** mergekit's pretty method names (card.py's method_md), by method name. */
    private static final Map<String, String> PRETTY_NAMES = Map.ofEntries(
            Map.entry("linear", "Linear"), Map.entry("slerp", "SLERP"), Map.entry("nuslerp", "NuSLERP"),
            Map.entry("multislerp", "Multi-SLERP"), Map.entry("karcher", "Karcher Mean"),
            Map.entry("task_arithmetic", "Task Arithmetic"), Map.entry("ties", "TIES"),
            Map.entry("dare_ties", "DARE TIES"), Map.entry("dare_linear", "Linear DARE"),
            Map.entry("breadcrumbs", "Model Breadcrumbs"), Map.entry("breadcrumbs_ties", "Model Breadcrumbs with TIES"),
            Map.entry("della", "DELLA"), Map.entry("della_linear", "Linear DELLA"),
            Map.entry("model_stock", "Model Stock"), Map.entry("sce", "SCE"), Map.entry("nearswap", "NearSwap"),
            Map.entry("arcee_fusion", "Arcee Fusion"), Map.entry("passthrough", "Passthrough"),
            Map.entry("varm", "VaRM"), Map.entry("ram", "Reinforced Agent Merging"),
            Map.entry("ramplus_tl", "Reinforced Agent Merging Plus (Tensor-Local)"));

    private static final java.util.regex.Pattern HUB_ID =
            java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*");

    /**
     * mergekit's model card (card.py's CARD_TEMPLATE): front matter with {@code base_model} (the Hub repositories
     * among the inputs), {@code library_name} and {@code tags}, keys sorted as PyYAML dumps them; the name; "Merge
     * Details" with the method (linked to its paper) and the base; the models merged; the configuration as given.
     * Amalgam adds its tag and an "Output" section.
     */
    static String modelCard(String name, MergeConfig cfg, MergePlan plan) {
        List<ModelReference> models = cardModels(cfg);
        // slerp's "base" is one of the two endpoints: mergekit lists it with the others
        ModelReference base = cfg.baseModel() == null || cfg.mergeMethod().equals("slerp") ? null
                : ModelReference.parse(cfg.baseModel());
        List<String> hub = new ArrayList<>();
        for (ModelReference m : models) {
            for (String p : m.paths()) {
                if (isHubId(p) && !hub.contains(p)) {
                    hub.add(p);
                }
            }
        }
        StringBuilder sb = new StringBuilder("---\n");
        if (hub.isEmpty()) {
            sb.append("base_model: []\n");
        } else {
            sb.append("base_model:\n");
            hub.forEach(h -> sb.append("- ").append(h).append('\n'));
        }
        sb.append("library_name: transformers\ntags:\n- mergekit\n- merge\n- amalgam\n---\n");
        sb.append("# ").append(name).append("\n\n");
        sb.append("This is a merge of pre-trained language models created using Amalgam, from a config in the format of"
                + " [mergekit](https://github.com/arcee-ai/mergekit).\n\n");
        sb.append("## Merge Details\n### Merge Method\n\n");
        sb.append("This model was merged using the ").append(methodMd(plan)).append(" merge method")
                .append(base == null ? "" : " using " + modelRefMd(base) + " as a base").append(".\n\n");
        sb.append("### Models Merged\n\nThe following models were included in the merge:\n");
        List<String> bullets = new ArrayList<>();
        for (ModelReference m : models) {
            if (!m.equals(base)) {
                bullets.add("* " + modelRefMd(m));
            }
        }
        sb.append(String.join("\n", bullets)).append("\n\n");
        sb.append("### Configuration\n\nThe following YAML configuration was used to produce this model:\n\n```yaml\n")
                .append(cfg.sourceText() != null ? cfg.sourceText() : "# (built programmatically)")
                .append("\n```\n");
        sb.append("\n### Output\n\n").append(plan.numLayers()).append(" layers, ")
                .append(plan.vocabSize() >= 0 ? "vocabulary " + plan.vocabSize() : "no embedding")
                .append(", ").append(DtypeNames.torchName(plan.dtype()))
                .append(plan.tiedEmbeddings() ? ", tied embeddings" : "").append(".\n");
        return sb.toString();
    }

    /** The models mergekit's referenced_models() names (base, models, slice sources, of each module too), in config order. */
    private static List<ModelReference> cardModels(MergeConfig cfg) {
        return cfg.mergekitReferencedModels().stream().map(ModelReference::parse).toList();
    }

    private static String methodMd(MergePlan plan) {
        String pretty = PRETTY_NAMES.getOrDefault(plan.method().name(), plan.method().name());
        String url = plan.method().reference();
        // a reference that is not a plain URL (mergekit has none for nuslerp and passthrough) is not linked
        return url != null && url.startsWith("http") && !url.contains(" ") ? "[" + pretty + "](" + url + ")" : pretty;
    }

    private static String modelRefMd(ModelReference m) {
        String text = linkHub(m.path());
        return m.hasLora() ? text + " + " + linkHub(m.loraPath()) : text;
    }

    private static String linkHub(String path) {
        return isHubId(path) ? "[" + path + "](https://huggingface.co/" + path + ")" : path;
    }

    /**
     * Whether a reference names a Hugging Face Hub repository. mergekit (card.py's is_hf) counts a path that is not
     * absolute, has at most one '/', and either does not exist locally or exists on the Hub; without a Hub to ask,
     * a reference counts when it has the Hub's {@code owner/name} shape.
     */
    static boolean isHubId(String path) {
        return HUB_ID.matcher(path).matches() && !path.startsWith(".") && !path.contains("..");
    }
}
