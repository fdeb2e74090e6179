package dev.amalgam.merge.config;

import dev.amalgam.modelio.DType;
import java.util.LinkedHashMap;
import java.util.Map;

/** The dtype spellings mergekit configs use, and the torch_dtype names written to config.json. */
public final class DtypeNames {

    /** Accepted names. */
    public static final Map<String, DType> NAMES = names();

    private DtypeNames() {
    }

    private static Map<String, DType> names() {
        Map<String, DType> m = new LinkedHashMap<>();
        m.put("bfloat16", DType.BF16);
        m.put("float16", DType.F16);
        m.put("float32", DType.F32);
        m.put("bf16", DType.BF16);
        m.put("fp16", DType.F16);
        m.put("half", DType.F16);
        m.put("fp32", DType.F32);
        m.put("float", DType.F32);
        m.put("int64", DType.I64); // mergekit's one integer name: the merged values truncated toward zero
        return Map.copyOf(m);
    }

    /** The dtype for a config name, or null when unknown. */
    public static DType parse(String name) {
        if (name == null) {
            return null;
        }
        String n = name.toLowerCase(java.util.Locale.ROOT);
        // mergekit's dtype_from_name drops a leading "torch." (torch.bfloat16)
        return NAMES.get(n.startsWith("torch.") ? n.substring("torch.".length()) : n);
    }

    /** The torch_dtype name for config.json ({@code bfloat16}, {@code float16}, {@code float32}). */
    public static String torchName(DType dtype) {
        return switch (dtype) {
            case BF16 -> "bfloat16";
            case F16 -> "float16";
            case F32 -> "float32";
            case F64 -> "float64";
            case I64 -> "int64";
            default -> dtype.safetensorsName().toLowerCase(java.util.Locale.ROOT);
        };
    }
}
