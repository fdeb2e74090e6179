package dev.amalgam.merge.method;

/**
 * Definition of one merge-method parameter, as data (mergekit's {@code ConfigParameterDef}).
 *
 * @param name         the key used in the config ({@code weight}, {@code density}, {@code t}, ...)
 * @param type         value kind
 * @param required     whether the config must provide it
 * @param defaultValue value used when absent (null when required or when "absent" is meaningful)
 * @param min          inclusive lower bound for numbers (validation), {@code -inf} when unbounded
 * @param max          inclusive upper bound for numbers (validation), {@code +inf} when unbounded; numbers must be
 *                     finite either way
 * @param choices      the values a string parameter may take (empty for other types)
 */
public record ParameterDef(String name, Type type, boolean required, Object defaultValue, double min, double max,
                           java.util.List<String> choices) {

    public ParameterDef {
        choices = choices == null ? java.util.List.of() : java.util.List.copyOf(choices);
    }

    /** A parameter of a type other than a string with choices. */
    public ParameterDef(String name, Type type, boolean required, Object defaultValue, double min, double max) {
        this(name, type, required, defaultValue, min, max, java.util.List.of());
    }

    /** Value kinds a parameter can take. */
    public enum Type { NUMBER, BOOLEAN, STRING }

    /** A required number with a range. */
    public static ParameterDef requiredNumber(String name, double min, double max) {
        return new ParameterDef(name, Type.NUMBER, true, null, min, max);
    }

    /** An optional number with a default and a range. */
    public static ParameterDef number(String name, double defaultValue, double min, double max) {
        return new ParameterDef(name, Type.NUMBER, false, defaultValue, min, max);
    }

    /** An optional number without a default (absent means "not used"). */
    public static ParameterDef optionalNumber(String name) {
        return new ParameterDef(name, Type.NUMBER, false, null, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY);
    }

    /** An optional string that must be one of {@code choices}, the first being the default. */
    public static ParameterDef choice(String name, String... choices) {
        return new ParameterDef(name, Type.STRING, false, choices[0], 0, 0, java.util.List.of(choices));
    }

    /** An optional free-form string with a default. */
    public static ParameterDef string(String name, String defaultValue) {
        return new ParameterDef(name, Type.STRING, false, defaultValue, 0, 0, java.util.List.of());
    }

    /** An optional boolean with a default. */
    public static ParameterDef bool(String name, boolean defaultValue) {
        return new ParameterDef(name, Type.BOOLEAN, false, defaultValue, 0, 1);
    }

    /**
     * Checks a concrete value against type and range; returns a problem text or null. As in mergekit, whose
     * config reads every parameter as a float, a boolean is a number (1 or 0) and a number is a boolean
     * (true unless 0).
     */
    public String check(Object value) {
        return switch (type) {
            case NUMBER -> {
                if (!(value instanceof Number) && !(value instanceof Boolean)) {
                    yield "parameter '" + name + "' must be a number, got " + value;
                }
                double v = TensorParams.asNumber(value);
                if (!Double.isFinite(v)) {
                    // 1e400 reads as Infinity; even where the range is unbounded it would make every output NaN
                    yield "parameter '" + name + "' must be a finite number, got " + v;
                }
                if (v < min || v > max) {
                    yield "parameter '" + name + "' = " + v + " is out of range [" + min + ", " + max + "]";
                }
                yield null;
            }
            case BOOLEAN -> value instanceof Boolean || (value instanceof Number n && Double.isFinite(n.doubleValue())) ? null
                    : "parameter '" + name + "' must be true or false, got " + value;
            case STRING -> {
                if (!(value instanceof String str)) {
                    yield "parameter '" + name + "' must be a string, got " + value;
                }
                yield choices.isEmpty() || choices.contains(str) ? null
                        : "parameter '" + name + "' = '" + str + "' is not one of " + String.join(", ", choices);
            }
        };
    }
}
