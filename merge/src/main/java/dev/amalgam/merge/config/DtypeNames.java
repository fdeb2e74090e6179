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
        return Map.copyOf(m);
    }

    /** The dtype for a config name, or null when unknown. */
    public static DType parse(String name) {
        return name == null ? null : NAMES.get(name.toLowerCase(java.util.Locale.ROOT));
    }

    /** The torch_dtype name for config.json ({@code bfloat16}, {@code float16}, {@code float32}). */
    public static String torchName(DType dtype) {
        return switch (dtype) {
            case BF16 -> "bfloat16";
            case F16 -> "float16";
            case F32 -> "float32";
            case F64 -> "float64";
            default -> dtype.safetensorsName().toLowerCase(java.util.Locale.ROOT);
        };
    }
}
