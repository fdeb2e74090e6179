package dev.amalgam.pruning;

import dev.amalgam.modelio.HfModelDir;
import dev.amalgam.modelio.Json;
import dev.amalgam.modelio.ShardedCheckpointWriter;
import dev.amalgam.modelio.TensorInfo;
import dev.amalgam.modelio.TensorSpec;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Writes a pruned Hugging Face checkpoint from the original directory and a removed-block set, streaming tensor
 * bytes from the memory-mapped source (nothing is held whole):
 * <ul>
 * <li>layers with both blocks removed are dropped and the rest renumbered ({@code num_hidden_layers}, Qwen2's
 * {@code max_window_layers} and any per-layer {@code layer_types} follow);</li>
 * <li>{@link OutputForm#MASKED}: a lone removed block keeps its tensors, with its output projection
 * ({@code o_proj} / {@code down_proj}, weight and bias) written as zeros, so the branch adds exactly 0;</li>
 * <li>{@link OutputForm#COMPACT}: a lone removed block's tensors (norm included) are left out and the layer is
 * listed (new numbering) in {@code drop_attn_list} / {@code drop_mlp_list} of config.json.</li>
 * </ul>
 * config.json also records {@code amalgam_pruning}: the method and the removed blocks in original numbering. The
 * tokenizer and other auxiliary files are copied.
 */
public final class PrunedCheckpoint {

    /** Largest shard, as transformers' default {@code max_shard_size="5GB"}. */
    public static final long MAX_SHARD_BYTES = 5_000_000_000L;

    private static final Pattern LAYER_TENSOR = Pattern.compile("model\\.layers\\.(\\d+)\\.(.+)");

    private PrunedCheckpoint() {
    }

    /**
     * @param method spec name recorded in config.json
     * @return the layer map: original index -> new index, -1 for dropped layers
     */
    public static int[] write(HfModelDir source, Collection<Block> removed, OutputForm form, String method, Path outDir) {
        int layers = source.config().path("num_hidden_layers").asInt();
        Set<Block> gone = new HashSet<>(removed);
        int[] newIndex = new int[layers];
        int kept = 0;
        for (int i = 0; i < layers; i++) {
            boolean dropLayer = gone.contains(Block.attention(i)) && gone.contains(Block.mlp(i));
            newIndex[i] = dropLayer ? -1 : kept++;
        }
        // Output name -> source name, in source order; zeroed tensors marked.
        Map<String, String> sourceOf = new LinkedHashMap<>();
        Set<String> zeroed = new HashSet<>();
        for (String name : source.tensorNames()) {
            Matcher m = LAYER_TENSOR.matcher(name);
            if (!m.matches()) {
                sourceOf.put(name, name);
                continue;
            }
            int layer = Integer.parseInt(m.group(1));
            String rest = m.group(2);
            if (layer >= layers || newIndex[layer] < 0) {
                continue;
            }
            BlockType type = blockOf(rest);
            boolean blockRemoved = type != null && gone.contains(new Block(layer, type));
            if (blockRemoved && form == OutputForm.COMPACT) {
                continue;
            }
            String out = "model.layers." + newIndex[layer] + "." + rest;
            sourceOf.put(out, name);
            if (blockRemoved && isOutputProjection(rest)) {
                zeroed.add(out);
            }
        }
        List<TensorSpec> specs = new ArrayList<>();
        sourceOf.forEach((out, in) -> {
            TensorInfo info = source.info(in);
            specs.add(new TensorSpec(out, info.dtype(), info.shape()));
        });
        try (ShardedCheckpointWriter writer = ShardedCheckpointWriter.create(outDir, specs, MAX_SHARD_BYTES)) {
            for (TensorSpec spec : specs) {
                if (zeroed.contains(spec.name())) {
                    writeZeros(writer, spec);
                } else {
                    writer.copy(spec.name(), source.tensor(sourceOf.get(spec.name())));
                }
            }
        }
        HfModelDir.copyAuxiliaryFiles(source, outDir);
        Json.write(outDir.resolve(HfModelDir.CONFIG_FILE), config(source.config(), gone, newIndex, kept, form, method));
        return newIndex;
    }

    /** Which block a per-layer tensor belongs to ({@code rest} = name after {@code model.layers.i.}); null if none. */
    static BlockType blockOf(String rest) {
        if (rest.startsWith("self_attn.") || rest.startsWith("input_layernorm.")) {
            return BlockType.ATTENTION;
        }
        if (rest.startsWith("mlp.") || rest.startsWith("post_attention_layernorm.")) {
            return BlockType.MLP;
        }
        return null;
    }

    private static boolean isOutputProjection(String rest) {
        return rest.startsWith("self_attn.o_proj.") || rest.startsWith("mlp.down_proj.");
    }

    // Zero bytes are +0.0 in every float dtype; written in 1 MiB pieces.
    private static void writeZeros(ShardedCheckpointWriter writer, TensorSpec spec) {
        long size = spec.byteSize();
        ByteBuffer zeros = ByteBuffer.allocate((int) Math.min(size, 1 << 20));
        for (long off = 0; off < size; off += zeros.capacity()) {
            int n = (int) Math.min(zeros.capacity(), size - off);
            writer.writeRaw(spec.name(), off, zeros.duplicate().limit(n));
        }
    }

    private static ObjectNode config(JsonNode original, Set<Block> gone, int[] newIndex, int kept, OutputForm form,
            String method) {
        ObjectNode c = (ObjectNode) original.deepCopy();
        int layers = newIndex.length;
        c.put("num_hidden_layers", kept);
        JsonNode window = c.get("max_window_layers");
        if (window != null && window.isIntegralNumber()) {
            int keptBelow = 0;
            for (int i = 0; i < Math.min(layers, window.asInt()); i++) {
                keptBelow += newIndex[i] >= 0 ? 1 : 0;
            }
            c.put("max_window_layers", window.asInt() >= layers ? kept : keptBelow);
        }
        JsonNode types = c.get("layer_types");
        if (types != null && types.isArray() && types.size() == layers) {
            ArrayNode keptTypes = c.putArray("layer_types");
            for (int i = 0; i < layers; i++) {
                if (newIndex[i] >= 0) {
                    keptTypes.add(types.get(i));
                }
            }
        }
        c.remove("drop_attn_list");
        c.remove("drop_mlp_list");
        if (form == OutputForm.COMPACT) {
            ArrayNode attn = c.putArray("drop_attn_list");
            ArrayNode mlp = c.putArray("drop_mlp_list");
            for (int i = 0; i < layers; i++) {
                if (newIndex[i] >= 0 && gone.contains(Block.attention(i))) {
                    attn.add(newIndex[i]);
                }
                if (newIndex[i] >= 0 && gone.contains(Block.mlp(i))) {
                    mlp.add(newIndex[i]);
                }
            }
        }
        ObjectNode meta = c.putObject("amalgam_pruning");
        meta.put("method", method);
        meta.put("form", form.specName());
        meta.put("original_num_hidden_layers", layers);
        meta.set("removed_blocks", PruningReport.referenceList(gone));
        return c;
    }
}
