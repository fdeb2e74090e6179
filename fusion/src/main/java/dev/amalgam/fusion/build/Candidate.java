package dev.amalgam.fusion.build;

/**
 * One sampled response to a prompt, with its reward when the data already carries one.
 *
 * @param text the response
 * @param score reward-model score, or null to have it scored
 * @param source the model that wrote it, or null (the FuseChat-3.0 pair rule pairs responses of one source)
 */
public record Candidate(String text, Double score, String source) {

    public Candidate {
        if (text == null) {
            throw new IllegalArgumentException("candidate text must not be null");
        }
    }

    /** A candidate whose source is not recorded. */
    public Candidate(String text, Double score) {
        this(text, score, null);
    }

    public Candidate withScore(double s) {
        return new Candidate(text, s, source);
    }
}
