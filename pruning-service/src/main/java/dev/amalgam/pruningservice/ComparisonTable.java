package dev.amalgam.pruningservice;

import dev.amalgam.modelengine.judge.Judging;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The comparison table as the pruning and fusion papers print it: one row per model, perplexity, each task's
 * headline accuracy (acc_norm where the task defines it, else acc) in percent, and their plain average (BlockPruner);
 * then the judged benchmarks as WRPO and FuseChat-3.0 print them: AlpacaEval 2 length-controlled and raw win rate,
 * Arena-Hard win rate (its score), MT-Bench score.
 */
final class ComparisonTable {

    /** The judged benchmarks' column groups, in the table's order (the judge benchmark ids that fill them). */
    static final List<String> JUDGE_COLUMNS = List.of("alpaca_eval", "arena_hard", "mt_bench");

    private ComparisonTable() {
    }

    /** The column group a judge benchmark fills: both AlpacaEval annotators fill the AlpacaEval 2 columns. */
    static String judgeColumn(Judging.Benchmark b) {
        return switch (b) {
            case ALPACA_EVAL, ALPACA_EVAL_WEIGHTED -> "alpaca_eval";
            case ARENA_HARD -> "arena_hard";
            case MT_BENCH -> "mt_bench";
        };
    }

    /**
     * One row from a model's evaluation result (null when the comparison evaluates nothing) and its judgments' reports
     * (at most one per column group).
     */
    static ComparisonJobResult.Row row(String model, EvaluationJobResult r, List<ComparisonJobResult.Judgment> judgments) {
        List<ComparisonJobResult.Cell> cells = new ArrayList<>();
        if (r != null) {
            for (EvaluationJobResult.TaskScore t : r.tasks()) {
                cells.add(t.accNorm() != null ? new ComparisonJobResult.Cell(t.name(), "acc_norm", t.accNorm())
                        : new ComparisonJobResult.Cell(t.name(), "acc", t.acc()));
            }
        }
        Double lc = null;
        Double wr = null;
        Double arena = null;
        Double mt = null;
        for (ComparisonJobResult.Judgment j : judgments) {
            if (j.alpacaEval() != null) {
                lc = j.alpacaEval().lengthControlledWinRate();
                wr = j.alpacaEval().winRate();
            }
            if (j.arenaHard() != null) {
                arena = j.arenaHard().score();
            }
            if (j.mtBench() != null) {
                mt = j.mtBench().overall();
            }
        }
        return new ComparisonJobResult.Row(model, r == null ? null : r.perplexity(), cells, r == null ? null : r.average(),
                lc, wr, arena, mt);
    }

    /**
     * The Markdown table: {@code | Model | PPL | task... | Avg. | AlpacaEval-2 LC (%) | AlpacaEval-2 WR (%) |
     * Arena-Hard WR (%) | MT-Bench |}, every number with two decimals, accuracies in percent; the PPL column only with
     * perplexity, the task and average columns only with tasks, each judged benchmark's columns only when it is in
     * {@code judgeColumns}; a model without a number has an empty cell.
     */
    static String markdown(List<String> columns, List<String> judgeColumns, List<ComparisonJobResult.Row> rows) {
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
        boolean alpaca = judgeColumns.contains("alpaca_eval");
        boolean arena = judgeColumns.contains("arena_hard");
        boolean mt = judgeColumns.contains("mt_bench");
        if (alpaca) {
            header.add("AlpacaEval-2 LC (%)");
            header.add("AlpacaEval-2 WR (%)");
        }
        if (arena) {
            header.add("Arena-Hard WR (%)");
        }
        if (mt) {
            header.add("MT-Bench");
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
            if (alpaca) {
                cells.add(number(r.alpacaEvalLcWinRate()));
                cells.add(number(r.alpacaEvalWinRate()));
            }
            if (arena) {
                cells.add(number(r.arenaHardScore()));
            }
            if (mt) {
                cells.add(number(r.mtBenchScore()));
            }
            line(md, cells);
        }
        return md.toString();
    }

    private static void line(StringBuilder md, List<String> cells) {
        md.append("| ").append(String.join(" | ", cells)).append(" |\n");
    }

    /** A number as it stands (the judge reports' win rates are percentages already), two decimals; empty for none. */
    private static String number(Double value) {
        return value == null ? "" : String.format(Locale.ROOT, "%.2f", value);
    }

    private static String percent(double share) {
        return String.format(Locale.ROOT, "%.2f", 100 * share);
    }

    private static String escape(String s) {
        return s.replace("|", "\\|");
    }
}
