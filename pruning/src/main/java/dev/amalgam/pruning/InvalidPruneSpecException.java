package dev.amalgam.pruning;

import java.util.List;

/** A prune spec with problems; {@link #problems()} lists every one (the service answers 422 with them). */
public final class InvalidPruneSpecException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    private final List<String> problems;

    public InvalidPruneSpecException(List<String> problems) {
        super("invalid prune spec: " + String.join("; ", problems));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }
}
