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

    /** Progress counted in units (tensors, steps): shows "done/total". */
    synchronized void update(long done, long total, String detail) {
        int percent = total == 0 ? 100 : (int) (100 * done / total);
        draw(percent, done == total, " " + done + "/" + total, detail);
    }

    /** Progress as a fraction only (the detail says what it counts): shows the percentage alone. */
    synchronized void fraction(double fraction, String detail) {
        double f = Math.max(0, Math.min(1, fraction));
        draw((int) Math.floor(100 * f), f >= 1, "", detail);
    }

    private void draw(int percent, boolean done, String counts, String detail) {
        if (percent == lastPercent && !done) {
            return;
        }
        lastPercent = percent;
        int filled = percent * WIDTH / 100;
        String shown = detail == null ? "" : detail.length() > 40 ? "..." + detail.substring(detail.length() - 37) : detail;
        out.printf("\r%s [%s%s] %3d%%%s %-40s", label, "#".repeat(filled), ".".repeat(WIDTH - filled), percent, counts, shown);
        if (done) {
            out.println();
        }
        out.flush();
    }
}
