package dev.amalgam.merge.method;

import java.util.Map;

/**
 * Parameter values resolved for one tensor (gradients interpolated, filters applied, defaults filled in).
 *
 * @param values parameter name to Double, Boolean or String
 */
public record TensorParams(Map<String, Object> values) {

    /** No parameters. */
    public static final TensorParams EMPTY = new TensorParams(Map.of());

    public TensorParams {
        values = Map.copyOf(values);
    }

    /** Whether a value (given or default) is present. */
    public boolean has(String name) {
        return values.containsKey(name);
    }

    /** A number parameter; fails if absent, which the validator rules out for required ones. */
    public double number(String name) {
        Object v = values.get(name);
        if (!(v instanceof Number) && !(v instanceof Boolean)) {
            throw new IllegalStateException("parameter '" + name + "' has no numeric value (got " + v + ")");
        }
        return asNumber(v);
    }

    /** A boolean parameter; a number is true unless 0 (mergekit reads {@code normalize: 1} as true). */
    public boolean bool(String name) {
        Object v = values.get(name);
        if (v instanceof Number n) {
            return n.doubleValue() != 0;
        }
        if (!(v instanceof Boolean b)) {
            throw new IllegalStateException("parameter '" + name + "' has no boolean value (got " + v + ")");
        }
        return b;
    }

    /** A string parameter; fails if absent, which the defaults rule out. */
    public String string(String name) {
        Object v = values.get(name);
        if (!(v instanceof String str)) {
            throw new IllegalStateException("parameter '" + name + "' has no string value (got " + v + ")");
        }
        return str;
    }

    /** A Number's value, or 1 / 0 for a Boolean (as pydantic reads a boolean into a float). */
    static double asNumber(Object v) {
        return v instanceof Boolean b ? (b ? 1 : 0) : ((Number) v).doubleValue();
    }
}
