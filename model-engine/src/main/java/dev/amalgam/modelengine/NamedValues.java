package dev.amalgam.modelengine;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/** The lookup of an enum constant by the name specs use for it (a task format, a benchmark format). */
public final class NamedValues {

    private NamedValues() {
    }

    /** Every constant's name, in declaration order. */
    public static <E> List<String> ids(E[] values, Function<E, String> id) {
        return Arrays.stream(values).map(id).toList();
    }

    /** The constant named {@code name} (compared exactly), if any. */
    public static <E> Optional<E> find(E[] values, Function<E, String> id, String name) {
        return Arrays.stream(values).filter(v -> id.apply(v).equals(name)).findFirst();
    }
}
