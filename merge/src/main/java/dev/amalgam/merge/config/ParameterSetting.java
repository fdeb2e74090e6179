package dev.amalgam.merge.config;

import java.util.List;

/**
 * A parameter value as written in a mergekit config: a scalar, a gradient (list of numbers interpolated over
 * the layer position t in [0, 1]), a list of scalars indexed by t, or filtered values ({@code filter}
 * matched as a substring of the tensor name, first match wins, no filter or "*" matches everything).
 */
public sealed interface ParameterSetting {

    /**
     * Evaluates the setting for one tensor.
     *
     * @param tensorName output tensor name (filters match on it)
     * @param t          layer position in [0, 1]; 0 for tensors outside the layers
     * @return Double, Boolean or String, or null when no filter matched
     */
    Object evaluate(String tensorName, double t);

    /** Every concrete value the setting can produce (for range validation before any tensor is read). */
    List<Object> possibleValues();

    /** A single number, boolean or string. */
    record Scalar(Object value) implements ParameterSetting {
        @Override
        public Object evaluate(String tensorName, double t) {
            return value;
        }

        @Override
        public List<Object> possibleValues() {
            return List.of(value);
        }
    }

    /** Numbers interpolated linearly over t: {@code [0, 0.5, 1]} gives 0.25 at t = 0.25. */
    record Gradient(List<Double> points) implements ParameterSetting {
        public Gradient {
            points = List.copyOf(points);
        }

        @Override
        public Object evaluate(String tensorName, double t) {
            double scaled = t * (points.size() - 1);
            int i0 = (int) scaled;
            int i1 = Math.min(points.size() - 1, i0 + 1);
            double frac = scaled - i0;
            return (1 - frac) * points.get(i0) + frac * points.get(i1);
        }

        @Override
        public List<Object> possibleValues() {
            return List.copyOf(points);
        }
    }

    /** Non-numeric values picked by position: index int(t * (n - 1)). */
    record Steps(List<Object> values) implements ParameterSetting {
        public Steps {
            values = List.copyOf(values);
        }

        @Override
        public Object evaluate(String tensorName, double t) {
            return values.get((int) (t * (values.size() - 1)));
        }

        @Override
        public List<Object> possibleValues() {
            return values;
        }
    }

    /** One filtered value. */
    record Condition(String filter, ParameterSetting value) {
        boolean matches(String tensorName) {
            return filter == null || filter.equals("*") || (tensorName != null && tensorName.contains(filter));
        }
    }

    /** Filtered values, first match wins. */
    record Conditional(List<Condition> conditions) implements ParameterSetting {
        public Conditional {
            conditions = List.copyOf(conditions);
        }

        @Override
        public Object evaluate(String tensorName, double t) {
            for (Condition c : conditions) {
                if (c.matches(tensorName)) {
                    return c.value().evaluate(tensorName, t);
                }
            }
            return null;
        }

        @Override
        public List<Object> possibleValues() {
            return conditions.stream().flatMap(c -> c.value().possibleValues().stream()).toList();
        }
    }
}
