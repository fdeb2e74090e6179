package dev.amalgam.merge.config;

import java.util.List;

/** A merge config (or the models it names) has problems; carries all of them, found before any tensor is read. */
public class MergeConfigException extends RuntimeException {

    private final List<String> problems;

    public MergeConfigException(List<String> problems) {
        super(problems.size() + " problem(s) in merge config:\n- " + String.join("\n- ", problems));
        this.problems = List.copyOf(problems);
    }

    /** Every problem found, one sentence each. */
    public List<String> problems() {
        return problems;
    }
}
