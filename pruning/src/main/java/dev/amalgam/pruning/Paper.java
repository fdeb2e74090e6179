package dev.amalgam.pruning;

/**
 * The paper a pruning method comes from.
 *
 * @param title the paper's title
 * @param authors the authors, as listed on arXiv
 * @param year year of the first arXiv version
 * @param arxivId the arXiv identifier, e.g. {@code 2406.10594}
 */
public record Paper(String title, String authors, int year, String arxivId) {

    /** The paper's arXiv abstract page. */
    public String url() {
        return "https://arxiv.org/abs/" + arxivId;
    }
}
