package dev.amalgam.pruning;

/** The listener asked to stop; {@link #state()} holds every step completed before the stop (resumable). */
public final class PruningCancelledException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final transient PruningState state;

    public PruningCancelledException(PruningState state) {
        super("pruning cancelled after " + state.steps().size() + " completed steps");
        this.state = state;
    }

    public PruningState state() {
        return state;
    }
}
