package dev.amalgam.fusion;

import java.util.List;

/** A fusion spec with problems; {@link #problems()} lists every one (the service answers 422 with them). */
public final class InvalidFusionSpecException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    private final List<String> problems;

    public InvalidFusionSpecException(List<String> problems) {
        super("invalid fusion spec: " + String.join("; ", problems));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }
}
