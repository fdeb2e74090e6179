package dev.amalgam.fusion.build;

/**
 * One sampled response to a prompt, with its reward when the data already carries one.
 *
 * @param text the response
 * @param score reward-model score, or null to have it scored
 */
public record Candidate(String text, Double score) {

    public Candidate {
        if (text == null) {
            throw new IllegalArgumentException("candidate text must not be null");
        }
    }

    public Candidate withScore(double s) {
        return new Candidate(text, s);
    }
}
