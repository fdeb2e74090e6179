package dev.amalgam.modelio;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;

/**
 * A PEFT LoRA adapter directory ({@code adapter_config.json} and {@code adapter_model.safetensors}, or
 * {@code adapter_model.bin}), read as PEFT's {@code merge_and_unload} applies it: for each adapted module
 * {@code W' = W + scale * B @ A} in FP32, {@code scale = lora_alpha / r}, or {@code lora_alpha / sqrt(r)} with
 * {@code use_rslora}; {@code rank_pattern} / {@code alpha_pattern} override {@code r} / {@code lora_alpha} for the
 * modules whose name ends with a pattern (PEFT's {@code get_pattern_key}). The delta is transposed for
 * {@code fan_in_fan_out} modules (GPT-2's Conv1D, weights stored {@code [in, out]}) and for embeddings
 * ({@code lora_embedding_A [r, vocab]}, {@code lora_embedding_B [dim, r]}). A {@code lora_B.bias} (PEFT's
 * {@code lora_bias}) is added to the module's bias times the scale.
 *
 * <p>Weight names are PEFT's: {@code base_model.model.<module>.lora_A.weight} and {@code .lora_B.weight}, the
 * prefix stripped to get the base model's module name. Other adapter kinds ({@code peft_type} not LORA), DoRA
 * ({@code use_dora}), and tensors that are not LoRA factors ({@code modules_to_save} copies, trainable tokens) are
 * refused with a message naming them.
 */
public final class LoraAdapter implements AutoCloseable {

    public static final String CONFIG_FILE = "adapter_config.json";
    static final String PREFIX = "base_model.model.";

    /** One adapted weight: {@code delta = scale * B @ A} (after transposing where PEFT does), shape of the weight. */
    private record Delta(String weight, float scale, float[] b, float[] a, int rank, long rows, long cols) {
    }

    private final Path dir;
    private final WeightFile weights;
    private final Map<String, Delta> deltas;
    private final Map<String, float[]> biasDeltas;

    private LoraAdapter(Path dir, WeightFile weights, Map<String, Delta> deltas, Map<String, float[]> biasDeltas) {
        this.dir = dir;
        this.weights = weights;
        this.deltas = deltas;
        this.biasDeltas = biasDeltas;
    }

    /** Whether {@code dir} holds a PEFT adapter ({@code adapter_config.json}). */
    public static boolean isAdapter(Path dir) {
        return Files.isRegularFile(dir.resolve(CONFIG_FILE));
    }

    /**
     * Reads an adapter against the model it is applied to (shapes are checked against the model's weights).
     *
     * @throws IllegalArgumentException naming the adapter, the field or tensor and what is wrong
     */
    static LoraAdapter open(Path dir, Map<String, TensorInfo> model) {
        if (!isAdapter(dir)) {
            throw new IllegalArgumentException("not a PEFT adapter directory (no " + CONFIG_FILE + "): " + dir);
        }
        JsonNode cfg = Json.read(dir.resolve(CONFIG_FILE));
        String where = dir.resolve(CONFIG_FILE).toString();
        String type = text(cfg, "peft_type");
        if (type != null && !type.equals("LORA")) {
            throw new IllegalArgumentException(where + ": peft_type " + type + " is not supported (only LORA)");
        }
        if (cfg.path("use_dora").asBoolean(false)) {
            throw new IllegalArgumentException(where + ": use_dora (DoRA) is not supported");
        }
        int r = positiveInt(cfg.get("r"), where + ": r");
        double alpha = number(cfg.get("lora_alpha"), where + ": lora_alpha");
        boolean rs = bool(cfg.get("use_rslora"), where + ": use_rslora");
        boolean fanInFanOut = bool(cfg.get("fan_in_fan_out"), where + ": fan_in_fan_out");
        Map<String, JsonNode> rankPattern = patterns(cfg, "rank_pattern", where);
        Map<String, JsonNode> alphaPattern = patterns(cfg, "alpha_pattern", where);

        Path st = dir.resolve("adapter_model.safetensors");
        Path bin = dir.resolve("adapter_model.bin");
        WeightFile file;
        if (Files.exists(st)) {
            file = SafetensorsFile.open(st);
        } else if (Files.exists(bin)) {
            file = TorchZipFile.open(bin);
        } else {
            throw new IllegalArgumentException(dir + ": no adapter_model.safetensors or adapter_model.bin");
        }
        try {
            // group the factors by module
            Map<String, Map<String, TensorInfo>> modules = new LinkedHashMap<>();
            for (TensorInfo t : file.tensorInfos()) {
                String n = t.name();
                if (!n.startsWith(PREFIX)) {
                    throw new IllegalArgumentException(file.path() + ": tensor '" + n + "' does not start with '"
                            + PREFIX + "' as PEFT writes adapter weights");
                }
                String rest = n.substring(PREFIX.length());
                String part = null;
                for (String suffix : List.of(".lora_A.weight", ".lora_B.weight", ".lora_B.bias", ".lora_embedding_A",
                        ".lora_embedding_B")) {
                    if (rest.endsWith(suffix)) {
                        part = suffix.substring(1);
                        rest = rest.substring(0, rest.length() - suffix.length());
                        break;
                    }
                }
                if (part == null) {
                    throw new IllegalArgumentException(file.path() + ": tensor '" + n + "' is not a LoRA factor"
                            + " (lora_A / lora_B / lora_embedding_A / lora_embedding_B); modules_to_save and trainable"
                            + " tokens are not supported");
                }
                modules.computeIfAbsent(rest, k -> new LinkedHashMap<>()).put(part, t);
            }
            if (modules.isEmpty()) {
                throw new IllegalArgumentException(file.path() + " holds no LoRA weights");
            }
            Map<String, Delta> deltas = new LinkedHashMap<>();
            Map<String, float[]> biases = new LinkedHashMap<>();
            for (Map.Entry<String, Map<String, TensorInfo>> m : modules.entrySet()) {
                String module = m.getKey();
                Map<String, TensorInfo> parts = m.getValue();
                boolean embedding = parts.containsKey("lora_embedding_A") || parts.containsKey("lora_embedding_B");
                String aName = embedding ? "lora_embedding_A" : "lora_A.weight";
                String bName = embedding ? "lora_embedding_B" : "lora_B.weight";
                TensorInfo a = parts.get(aName);
                TensorInfo b = parts.get(bName);
                String mw = file.path() + ": module '" + module + "'";
                if (a == null || b == null) {
                    throw new IllegalArgumentException(mw + " has " + parts.keySet() + ", needs " + aName + " and " + bName);
                }
                int rank = patternKey(rankPattern, module) == null ? r
                        : positiveInt(rankPattern.get(patternKey(rankPattern, module)), where + ": rank_pattern");
                double alph = patternKey(alphaPattern, module) == null ? alpha
                        : number(alphaPattern.get(patternKey(alphaPattern, module)), where + ": alpha_pattern");
                long[] as = a.shape();
                long[] bs = b.shape();
                if (as.length != 2 || bs.length != 2 || as[0] != rank || bs[1] != rank) {
                    throw new IllegalArgumentException(mw + ": " + aName + " " + java.util.Arrays.toString(as) + " and "
                            + bName + " " + java.util.Arrays.toString(bs) + " do not have rank r = " + rank
                            + " (A is [r, in], B is [out, r])");
                }
                String weight = module + ".weight";
                TensorInfo w = model.get(weight);
                if (w == null) {
                    throw new IllegalArgumentException(mw + ": the model has no weight '" + weight + "' to adapt");
                }
                // PEFT transposes the delta for fan_in_fan_out layers and for embeddings
                boolean transpose = embedding || fanInFanOut;
                long rows = transpose ? as[1] : bs[0];
                long cols = transpose ? bs[0] : as[1];
                long[] ws = w.shape();
                if (ws.length != 2 || ws[0] != rows || ws[1] != cols) {
                    throw new IllegalArgumentException(mw + ": the delta is [" + rows + ", " + cols + "] but '" + weight
                            + "' is " + java.util.Arrays.toString(ws)
                            + (fanInFanOut ? "" : " (a Conv1D layer needs fan_in_fan_out: true)"));
                }
                if (!w.dtype().isFloatingPoint()) {
                    throw new IllegalArgumentException(mw + ": '" + weight + "' is " + w.dtype() + ", not a float tensor");
                }
                float scale = (float) (rs ? alph / Math.sqrt(rank) : alph / rank);
                float[] af = file.tensor(a.name()).toFloatArray();
                float[] bf = file.tensor(b.name()).toFloatArray();
                // stored so that delta[i][j] = scale * sum_k bm[i][k] * am[k][j] for the weight's own layout
                float[] bm = transpose ? transpose(af, rank, (int) rows) : bf;
                float[] am = transpose ? transpose(bf, (int) cols, rank) : af;
                deltas.put(weight, new Delta(weight, scale, bm, am, rank, rows, cols));
                TensorInfo bias = parts.get("lora_B.bias");
                if (bias != null) {
                    String biasName = module + ".bias";
                    TensorInfo wb = model.get(biasName);
                    if (wb == null || wb.numel() != bias.numel() || bias.numel() != rows) {
                        throw new IllegalArgumentException(mw + ": lora_B.bias " + java.util.Arrays.toString(bias.shape())
                                + " needs a model bias '" + biasName + "' of " + rows + " elements");
                    }
                    float[] bd = file.tensor(bias.name()).toFloatArray();
                    for (int i = 0; i < bd.length; i++) {
                        bd[i] *= scale;
                    }
                    biases.put(biasName, bd);
                }
            }
            return new LoraAdapter(dir, file, Collections.unmodifiableMap(deltas), Collections.unmodifiableMap(biases));
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /** {@code m} is {@code [rows, cols]} row-major; returns {@code [cols, rows]}. */
    private static float[] transpose(float[] m, int rows, int cols) {
        float[] t = new float[m.length];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                t[j * rows + i] = m[i * cols + j];
            }
        }
        return t;
    }

    /** PEFT's get_pattern_key: the first pattern {@code p} with {@code (.*\.)?(p)$} matching the module name. */
    private static String patternKey(Map<String, JsonNode> patterns, String module) {
        for (String p : patterns.keySet()) {
            if (Pattern.compile("(.*\\.)?(" + p + ")$").matcher(module).matches()) {
                return p;
            }
        }
        return null;
    }

    private static Map<String, JsonNode> patterns(JsonNode cfg, String key, String where) {
        JsonNode n = cfg.get(key);
        Map<String, JsonNode> out = new LinkedHashMap<>();
        if (n == null || n.isNull()) {
            return out;
        }
        if (!n.isObject()) {
            throw new IllegalArgumentException(where + ": " + key + " must be a mapping of module patterns to values");
        }
        n.properties().forEach(e -> out.put(e.getKey(), e.getValue()));
        return out;
    }

    private static String text(JsonNode cfg, String key) {
        JsonNode n = cfg.get(key);
        return n == null || n.isNull() ? null : n.asString();
    }

    private static int positiveInt(JsonNode n, String where) {
        if (n == null || !n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() < 1) {
            throw new IllegalArgumentException(where + " must be a positive integer, found " + n);
        }
        return n.intValue();
    }

    private static double number(JsonNode n, String where) {
        if (n == null || !n.isNumber() || !Double.isFinite(n.doubleValue())) {
            throw new IllegalArgumentException(where + " must be a finite number, found " + n);
        }
        return n.doubleValue();
    }

    private static boolean bool(JsonNode n, String where) {
        if (n == null || n.isNull()) {
            return false;
        }
        if (!n.isBoolean()) {
            throw new IllegalArgumentException(where + " must be a boolean, found " + n);
        }
        return n.booleanValue();
    }

    /** The adapter directory. */
    public Path dir() {
        return dir;
    }

    /** The model weights the adapter changes (weights and biases), in file order. */
    public List<String> adaptedTensors() {
        List<String> names = new ArrayList<>(deltas.keySet());
        names.addAll(biasDeltas.keySet());
        return names;
    }

    /** The base tensor with the adapter applied (FP32), or the base tensor itself when the adapter leaves it alone. */
    Tensor apply(Tensor base) {
        Delta d = deltas.get(base.name());
        if (d != null) {
            return new LoraTensor(base, d.scale(), d.b(), d.a(), d.rank(), d.cols());
        }
        float[] bias = biasDeltas.get(base.name());
        if (bias != null) {
            return new LoraTensor(base, 1f, bias, new float[] {1f}, 1, 1);
        }
        return base;
    }

    boolean adapts(String tensor) {
        return deltas.containsKey(tensor) || biasDeltas.containsKey(tensor);
    }

    @Override
    public void close() {
        weights.close();
    }
}
