package dev.amalgam.cli;

import java.io.PrintStream;

/** A one-line progress bar on stderr, redrawn in place; thread-safe, at most one redraw per percent. */
final class ProgressBar {

    private static final int WIDTH = 30;

    private final PrintStream out;
    private final String label;
    private int lastPercent = -1;

    ProgressBar(PrintStream out, String label) {
        this.out = out;
        this.label = label;
    }

    synchronized void update(long done, long total, String detail) {
        int percent = total == 0 ? 100 : (int) (100 * done / total);
        if (percent == lastPercent && done != total) {
            return;
        }
        lastPercent = percent;
        int filled = percent * WIDTH / 100;
        String shown = detail == null ? "" : detail.length() > 40 ? "..." + detail.substring(detail.length() - 37) : detail;
        out.printf("\r%s [%s%s] %3d%% %d/%d %-40s", label, "#".repeat(filled), ".".repeat(WIDTH - filled), percent, done, total, shown);
        if (done == total) {
            out.println();
        }
        out.flush();
    }
}
