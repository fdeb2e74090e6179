package dev.amalgam.pruningservice;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The comparison table as the pruning and fusion papers print it: one row per model, perplexity, each task's
 * headline accuracy (acc_norm where the task defines it, else acc) in percent, and their plain average.
 */
final class ComparisonTable {

    private ComparisonTable() {
    }

    /** One row from a model's evaluation result. */
    static ComparisonJobResult.Row row(String model, EvaluationJobResult r) {
        List<ComparisonJobResult.Cell> cells = new ArrayList<>();
        for (EvaluationJobResult.TaskScore t : r.tasks()) {
            cells.add(t.accNorm() != null ? new ComparisonJobResult.Cell(t.name(), "acc_norm", t.accNorm())
                    : new ComparisonJobResult.Cell(t.name(), "acc", t.acc()));
        }
        return new ComparisonJobResult.Row(model, r.perplexity(), cells, r.average());
    }

    /**
     * The Markdown table: {@code | Model | PPL | task... | Avg. |}, perplexity with two decimals, accuracies in
     * percent with two decimals; the PPL column only with perplexity, the task and average columns only with tasks.
     */
    static String markdown(List<String> columns, List<ComparisonJobResult.Row> rows) {
        boolean ppl = rows.stream().anyMatch(r -> r.perplexity() != null);
        boolean tasks = !columns.isEmpty();
        List<String> header = new ArrayList<>();
        header.add("Model");
        if (ppl) {
            header.add("PPL");
        }
        if (tasks) {
            columns.forEach(c -> header.add(escape(c)));
            header.add("Avg.");
        }
        StringBuilder md = new StringBuilder();
        line(md, header);
        line(md, header.stream().map(h -> "---").toList());
        for (ComparisonJobResult.Row r : rows) {
            List<String> cells = new ArrayList<>();
            cells.add(escape(r.model()));
            if (ppl) {
                cells.add(r.perplexity() == null ? "" : String.format(Locale.ROOT, "%.2f", r.perplexity()));
            }
            if (tasks) {
                r.tasks().forEach(c -> cells.add(percent(c.value())));
                cells.add(r.average() == null ? "" : percent(r.average()));
            }
            line(md, cells);
        }
        return md.toString();
    }

    private static void line(StringBuilder md, List<String> cells) {
        md.append("| ").append(String.join(" | ", cells)).append(" |\n");
    }

    private static String percent(double share) {
        return String.format(Locale.ROOT, "%.2f", 100 * share);
    }

    private static String escape(String s) {
        return s.replace("|", "\\|");
    }
}
