package dev.amalgam.platform.jobtype;

import java.util.List;

/** A spec that did not validate, with every problem found. */
public class InvalidJobSpecException extends IllegalArgumentException {

    private final List<String> problems;

    public InvalidJobSpecException(List<String> problems) {
        super(String.join("; ", problems));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }
}
