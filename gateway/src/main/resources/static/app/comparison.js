// A comparison REPORT's table (its report.json), laid out as report.md and the papers' tables: Model, PPL, each
// task's headline accuracy in percent, Avg., then AlpacaEval-2 LC and WR, Arena-Hard, MT-Bench. Built from the
// JSON with DOM nodes, so a model or task name can never inject HTML.
import { h } from './ui.js';

const two = v => v == null ? '' : Number(v).toFixed(2);

/** The table of a report.json of kind "comparison", in a scrolling wrapper. */
export function comparisonTable(report) {
  const rows = report.rows || [];
  const tasks = report.columns || [];
  const judged = report.judgeColumns || [];
  const cols = [];
  if (rows.some(r => r.perplexity != null)) cols.push(['PPL', r => two(r.perplexity)]);
  if (tasks.length) {
    tasks.forEach((t, i) => cols.push([t, r => r.tasks[i] ? two(100 * r.tasks[i].value) : '']));
    cols.push(['Avg.', r => r.average == null ? '' : two(100 * r.average)]);
  }
  if (judged.includes('alpaca_eval')) {
    cols.push(['AlpacaEval-2 LC (%)', r => two(r.alpacaEvalLcWinRate)]);
    cols.push(['AlpacaEval-2 WR (%)', r => two(r.alpacaEvalWinRate)]);
  }
  if (judged.includes('arena_hard')) cols.push(['Arena-Hard WR (%)', r => two(r.arenaHardScore)]);
  if (judged.includes('mt_bench')) cols.push(['MT-Bench', r => two(r.mtBenchScore)]);
  return h('div.table-wrap', h('table#comparison-table',
    h('thead', h('tr', h('th', 'Model'), cols.map(([name]) => h('th.num', name)))),
    h('tbody', rows.map(r => h('tr', h('td', r.model), cols.map(([, cell]) => h('td.num', cell(r))))))));
}
