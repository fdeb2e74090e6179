package dev.amalgam.merge.arch;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A model family's tensor layout, read from {@code architectures.json} (data, so a new family is a new entry):
 * tensor-name templates with a layer index {@code {i}}, the embedding and head names, the config keys.
 *
 * @param name         family name
 * @param architectures {@code config.json "architectures"} values of the family
 * @param numLayersKey config key of the layer count
 * @param vocabSizeKey config key of the vocabulary size
 * @param tieKey       config key of embedding tying
 * @param layerPrefix  template of a layer's tensor prefix, e.g. {@code model.layers.{i}.}
 * @param embedTokens  input embedding tensor (rows = vocabulary)
 * @param lmHead       output head tensor (rows = vocabulary), absent when tied
 * @param preWeights   tensors before the layers
 * @param layerWeights per-layer tensor suffixes (optional ones, like Qwen2 biases, may be absent)
 * @param postWeights  tensors after the layers
 */
public record Architecture(String name, List<String> architectures, String numLayersKey, String vocabSizeKey,
                           String tieKey, String layerPrefix, String embedTokens, String lmHead,
                           List<String> preWeights, List<String> layerWeights, List<String> postWeights) {

    private static final java.util.Map<String, Pattern> PATTERNS = new java.util.concurrent.ConcurrentHashMap<>();
    private static final List<Architecture> KNOWN = load();

    public Architecture {
        architectures = List.copyOf(architectures);
        preWeights = List.copyOf(preWeights);
        layerWeights = List.copyOf(layerWeights);
        postWeights = List.copyOf(postWeights);
    }

    /** The family of a {@code config.json "architectures"} value. */
    public static Optional<Architecture> forName(String architecture) {
        return KNOWN.stream().filter(a -> a.architectures().contains(architecture)).findFirst();
    }

    /** Every supported architecture name. */
    public static List<String> supported() {
        return KNOWN.stream().flatMap(a -> a.architectures().stream()).toList();
    }

    /** Prefix of layer {@code i}'s tensors. */
    public String layerPrefix(int i) {
        return layerPrefix.replace("{i}", Integer.toString(i));
    }

    /** The layer index a tensor belongs to, or -1 for tensors outside the layers. */
    public int layerOf(String tensorName) {
        Matcher m = layerPattern().matcher(tensorName);
        return m.matches() ? Integer.parseInt(m.group(1)) : -1;
    }

    /** The part of a layer tensor's name after its layer prefix. */
    public String suffixOf(String tensorName) {
        Matcher m = layerPattern().matcher(tensorName);
        if (!m.matches()) {
            throw new IllegalArgumentException(tensorName + " is not a layer tensor of " + name);
        }
        return m.group(2);
    }

    /** Whether the tensor's rows are indexed by token id. */
    public boolean isEmbedding(String tensorName) {
        return tensorName.equals(embedTokens) || tensorName.equals(lmHead);
    }

    private Pattern layerPattern() {
        return PATTERNS.computeIfAbsent(layerPrefix, prefix -> {
            String[] parts = prefix.split("\\{i}", -1);
            return Pattern.compile(Pattern.quote(parts[0]) + "(\\d+)" + Pattern.quote(parts[1]) + "(.+)");
        });
    }

    private static List<Architecture> load() {
        try (InputStream in = Architecture.class.getResourceAsStream("architectures.json")) {
            if (in == null) {
                throw new IllegalStateException("architectures.json missing from the merge jar");
            }
            JsonNode root = JsonMapper.builder().build().readTree(in);
            List<Architecture> res = new ArrayList<>();
            for (JsonNode f : root.get("families")) {
                res.add(new Architecture(f.get("name").asString(), strings(f.get("architectures")),
                        f.get("num_layers_key").asString(), f.get("vocab_size_key").asString(),
                        f.get("tie_key").asString(), f.get("layer_prefix").asString(), f.get("embed_tokens").asString(),
                        f.get("lm_head").asString(), strings(f.get("pre_weights")), strings(f.get("layer_weights")),
                        strings(f.get("post_weights"))));
            }
            return List.copyOf(res);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> strings(JsonNode arr) {
        List<String> res = new ArrayList<>();
        arr.forEach(n -> res.add(n.asString()));
        return res;
    }
}
